/*
 * dmstack test table: two persistent NVDIMMs and one volatile range, with the platform
 * promising CPU cache flush on power loss (persistence domain cpu_cache). Also a control-region
 * SPA range (not a region), SMBIOS data, a block data window and flush hints, so that every
 * subtable type appears. Compiled by iasl at test time; see IaslTest.
 */
[0004]                          Signature : "NFIT"    [NVDIMM Firmware Interface Table]
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "DMSTCK"
[0008]                       Oem Table ID : "TWOPMEM1"
[0004]                       Oem Revision : 00000002
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925

[0004]                           Reserved : 00000000

[0002]                      Subtable Type : 0000 [System Physical Address Range]
[0002]                             Length : 0038
[0002]                        Range Index : 0001
[0002]              Flags (decoded below) : 0002
                  Add/Online Operation Only : 0
                     Proximity Domain Valid : 1
[0004]                           Reserved : 00000000
[0004]                   Proximity Domain : 00000001
[0016]                   Region Type GUID : 66F0D379-B4F3-4074-AC43-0D3318B78CDB
[0008]                 Address Range Base : 0000000100000000
[0008]               Address Range Length : 0000000004000000
[0008]               Memory Map Attribute : 0000000000008008

[0002]                      Subtable Type : 0000 [System Physical Address Range]
[0002]                             Length : 0038
[0002]                        Range Index : 0002
[0002]              Flags (decoded below) : 0002
                  Add/Online Operation Only : 0
                     Proximity Domain Valid : 1
[0004]                           Reserved : 00000000
[0004]                   Proximity Domain : 00000001
[0016]                   Region Type GUID : 66F0D379-B4F3-4074-AC43-0D3318B78CDB
[0008]                 Address Range Base : 0000000104000000
[0008]               Address Range Length : 0000000008000000
[0008]               Memory Map Attribute : 0000000000008008

[0002]                      Subtable Type : 0000 [System Physical Address Range]
[0002]                             Length : 0038
[0002]                        Range Index : 0003
[0002]              Flags (decoded below) : 0000
                  Add/Online Operation Only : 0
                     Proximity Domain Valid : 0
[0004]                           Reserved : 00000000
[0004]                   Proximity Domain : 00000000
[0016]                   Region Type GUID : 7305944F-FDDA-44E3-B16C-3F22D252E5D0
[0008]                 Address Range Base : 000000010C000000
[0008]               Address Range Length : 0000000002000000
[0008]               Memory Map Attribute : 0000000000000008

[0002]                      Subtable Type : 0000 [System Physical Address Range]
[0002]                             Length : 0038
[0002]                        Range Index : 0004
[0002]              Flags (decoded below) : 0001
                  Add/Online Operation Only : 1
                     Proximity Domain Valid : 0
[0004]                           Reserved : 00000000
[0004]                   Proximity Domain : 00000000
[0016]                   Region Type GUID : 92F701F6-13B4-405D-910B-299367E8234C
[0008]                 Address Range Base : 00000000FE000000
[0008]               Address Range Length : 0000000000010000
[0008]               Memory Map Attribute : 0000000000000001

[0002]                      Subtable Type : 0001 [Memory Range Map]
[0002]                             Length : 0030
[0004]                      Device Handle : 00000101
[0002]                        Physical Id : 0010
[0002]                          Region Id : 0000
[0002]                        Range Index : 0001
[0002]               Control Region Index : 0005
[0008]                        Region Size : 0000000004000000
[0008]                      Region Offset : 0000000000000000
[0008]                Address Region Base : 0000000000000000
[0002]                   Interleave Index : 0000
[0002]                    Interleave Ways : 0001
[0002]                              Flags : 0010
                      Save to device failed : 0
                 Restore from device failed : 0
                      Platform flush failed : 0
                           Device not armed : 0
                     Health events observed : 1
                      Health events enabled : 0
                             Mapping failed : 0
[0002]                           Reserved : 0000

[0002]                      Subtable Type : 0001 [Memory Range Map]
[0002]                             Length : 0030
[0004]                      Device Handle : 00000111
[0002]                        Physical Id : 0011
[0002]                          Region Id : 0000
[0002]                        Range Index : 0002
[0002]               Control Region Index : 0006
[0008]                        Region Size : 0000000008000000
[0008]                      Region Offset : 0000000000000000
[0008]                Address Region Base : 0000000000200000
[0002]                   Interleave Index : 0000
[0002]                    Interleave Ways : 0001
[0002]                              Flags : 0000
                      Save to device failed : 0
                 Restore from device failed : 0
                      Platform flush failed : 0
                           Device not armed : 0
                     Health events observed : 0
                      Health events enabled : 0
                             Mapping failed : 0
[0002]                           Reserved : 0000

[0002]                      Subtable Type : 0001 [Memory Range Map]
[0002]                             Length : 0030
[0004]                      Device Handle : 00000121
[0002]                        Physical Id : 0012
[0002]                          Region Id : 0000
[0002]                        Range Index : 0003
[0002]               Control Region Index : 0007
[0008]                        Region Size : 0000000002000000
[0008]                      Region Offset : 0000000000000000
[0008]                Address Region Base : 0000000000000000
[0002]                   Interleave Index : 0000
[0002]                    Interleave Ways : 0001
[0002]                              Flags : 0000
                      Save to device failed : 0
                 Restore from device failed : 0
                      Platform flush failed : 0
                           Device not armed : 0
                     Health events observed : 0
                      Health events enabled : 0
                             Mapping failed : 0
[0002]                           Reserved : 0000

[0002]                      Subtable Type : 0004 [NVDIMM Control Region]
[0002]                             Length : 0050
[0002]                       Region Index : 0005
[0002]                          Vendor Id : 8086
[0002]                          Device Id : 0001
[0002]                        Revision Id : 0001
[0002]                Subsystem Vendor Id : 0000
[0002]                Subsystem Device Id : 0000
[0002]              Subsystem Revision Id : 0000
[0001]                       Valid Fields : 01
[0001]             Manufacturing Location : 0A
[0002]                 Manufacturing Date : 1519
[0002]                           Reserved : 0000
[0004]                      Serial Number : 12345678
[0002]                               Code : 0301
[0002]                       Window Count : 0000
[0008]                        Window Size : 0000000000000000
[0008]                     Command Offset : 0000000000000000
[0008]                       Command Size : 0000000000000000
[0008]                      Status Offset : 0000000000000000
[0008]                        Status Size : 0000000000000000
[0002]                              Flags : 0000
                           Windows buffered : 0
[0006]                          Reserved1 : 000000000000

[0002]                      Subtable Type : 0004 [NVDIMM Control Region]
[0002]                             Length : 0050
[0002]                       Region Index : 0006
[0002]                          Vendor Id : 8086
[0002]                          Device Id : 0001
[0002]                        Revision Id : 0001
[0002]                Subsystem Vendor Id : 0000
[0002]                Subsystem Device Id : 0000
[0002]              Subsystem Revision Id : 0000
[0001]                       Valid Fields : 00
[0001]             Manufacturing Location : 00
[0002]                 Manufacturing Date : 0000
[0002]                           Reserved : 0000
[0004]                      Serial Number : 00123457
[0002]                               Code : 0301
[0002]                       Window Count : 0000
[0008]                        Window Size : 0000000000000000
[0008]                     Command Offset : 0000000000000000
[0008]                       Command Size : 0000000000000000
[0008]                      Status Offset : 0000000000000000
[0008]                        Status Size : 0000000000000000
[0002]                              Flags : 0000
                           Windows buffered : 0
[0006]                          Reserved1 : 000000000000

[0002]                      Subtable Type : 0004 [NVDIMM Control Region]
[0002]                             Length : 0050
[0002]                       Region Index : 0007
[0002]                          Vendor Id : 8086
[0002]                          Device Id : 0001
[0002]                        Revision Id : 0001
[0002]                Subsystem Vendor Id : 0000
[0002]                Subsystem Device Id : 0000
[0002]              Subsystem Revision Id : 0000
[0001]                       Valid Fields : 00
[0001]             Manufacturing Location : 00
[0002]                 Manufacturing Date : 0000
[0002]                           Reserved : 0000
[0004]                      Serial Number : 00123458
[0002]                               Code : 0301
[0002]                       Window Count : 0001
[0008]                        Window Size : 0000000000002000
[0008]                     Command Offset : 0000000000800000
[0008]                       Command Size : 0000000000000008
[0008]                      Status Offset : 0000000000801000
[0008]                        Status Size : 0000000000000004
[0002]                              Flags : 0001
                           Windows buffered : 1
[0006]                          Reserved1 : 000000000000

[0002]                      Subtable Type : 0005 [NVDIMM Block Data Window Region]
[0002]                             Length : 0028
[0002]                       Region Index : 0007
[0002]                       Window Count : 0001
[0008]                             Offset : 0000000000000000
[0008]                               Size : 0000000000002000
[0008]                           Capacity : 0000000002000000
[0008]                      Start Address : 0000000000000000

[0002]                      Subtable Type : 0006 [Flush Hint Address]
[0002]                             Length : 0020
[0004]                      Device Handle : 00000101
[0002]                         Hint Count : 0002
[0006]                           Reserved : 000000000000
[0008]                       Hint Address : 00000000FED00000
[0008]                       Hint Address : 00000000FED00040

[0002]                      Subtable Type : 0003 [SMBIOS Information]
[0002]                             Length : 0018
[0004]                           Reserved : 00000000
[0016]               SMBIOS Table Entries : \
    11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00

[0002]                      Subtable Type : 0007 [Platform Capabilities]
[0002]                             Length : 0010
[0001]                 Highest Capability : 01
[0003]                           Reserved : 000000
[0004]       Capabilities (decoded below) : 00000003
                      Cache Flush to NVDIMM : 1
                     Memory Flush to NVDIMM : 1
                           Memory Mirroring : 0
[0004]                           Reserved : 00000000

