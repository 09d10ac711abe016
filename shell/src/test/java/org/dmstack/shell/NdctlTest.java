package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nfit.EmulatedPlatform;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.pmem.Pmem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NdctlTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private Pmem pmem;
    private NfitPlatform platform;
    private Ndctl ndctl;

    @BeforeEach
    void setUp() {
        platform = EmulatedPlatform.fromConfig(List.of("volatile:16M"), "", List.of()).platform();
        pmem = new Pmem(registry);
        platform.addMediaErrorListener(pmem);
        platform.regions().forEach(pmem::addRegion);
        ndctl = new Ndctl(() -> List.of(platform), pmem);
    }

    @AfterEach
    void tearDown() {
        pmem.close();
    }

    private String run(String line) {
        return Stack.capture((out, err) -> ndctl.run(line.isBlank() ? List.of() : Stack.words(line), out));
    }

    @Test
    void listShowsRegionsWithTheirNamespaceAndBlockDevice() {
        String regions = run("list -R");
        assertTrue(regions.contains("\"dev\":\"region0\""), regions);
        String ns = run("list -N");
        assertTrue(ns.contains("\"dev\":\"namespace0.0\"") && ns.contains("\"mode\":\"raw\"") && ns.contains("\"blockdev\":\"pmem0\""), ns);
        assertTrue(run("list -D -R").contains("\"dimms\""));
    }

    /** parse-options' words and layout (util/parse-options.c, util/usage.c). */
    @Test
    void listHelpAndErrorsAsNdctlPrintsThem() {
        String usage = """

                 usage: ndctl list [<options>]

                    -b, --bus <bus-id>    filter by bus
                    -r, --region <region-id>
                                          filter by region
                    -d, --dimm <dimm-id>  filter by dimm
                    -n, --namespace <namespace-id>
                                          filter by namespace id
                    -m, --mode <namespace-mode>
                                          filter by namespace mode
                    -t, --type <region-type>
                                          filter by region-type
                    -B, --buses           include bus info
                    -D, --dimms           include dimm info
                    -F, --firmware        include firmware info
                    -H, --health          include dimm health
                    -R, --regions         include region info
                    -N, --namespaces      include namespace info (default)
                    -X, --device-dax      include device-dax info
                    -i, --idle            include idle devices
                    -c, --configured      include configured namespaces, disabled or not
                    -M, --media-errors    include media errors
                    -u, --human           use human friendly number formats\s
                    -v, --verbose         increase output detail

                """;
        assertEquals(usage, run("list --help"), "--help shows ndctl's man page; its usage stands in for it");
        CommandException h = assertThrows(CommandException.class, () -> run("list -h"));
        assertEquals(usage.stripTrailing(), h.getMessage(), "-h is usage_with_options: the usage as an error, status 129");
        assertEquals(129, h.exitStatus());
        assertEquals("  Error: unknown switch `C'\n" + usage.stripTrailing(),
                assertThrows(CommandException.class, () -> run("list -RC")).getMessage());
        assertEquals("  Error: unknown option `frob'\n" + usage.stripTrailing(),
                assertThrows(CommandException.class, () -> run("list --frob")).getMessage());
        assertEquals("  Error: unknown parameter \"region0\"\n\n" + usage.stripTrailing(),
                assertThrows(CommandException.class, () -> run("list region0")).getMessage());
        assertEquals("  Error: invalid mode: 'memoryy'", assertThrows(CommandException.class, () -> run("list -m memoryy")).getMessage());
    }

    /** inject-error.c: the namespace with its media errors after (un)injecting; --status only the records. */
    @Test
    void injectStatusAndUninject() {
        String injected = """
                {
                  "dev":"namespace0.0",
                  "mode":"raw",
                  "size":16777216,
                  "sector_size":512,
                  "blockdev":"pmem0",
                  "badblock_count":2,
                  "badblocks":[
                    {
                      "offset":8,
                      "length":2,
                      "dimms":[
                        "nmem0"
                      ]
                    }
                  ]
                }
                """;
        assertEquals(injected, run("inject-error namespace0.0 --block=8 --count=2"));
        assertEquals("8 2", registry.lookup("pmem0").attributes().read("badblocks"));
        assertEquals("""
                {
                  "badblocks":[
                    {
                      "block":8,
                      "count":2
                    }
                  ]
                }
                """, run("inject-error namespace0.0 --status"));
        assertTrue(run("inject-error namespace0.0 --status -u").contains("\"block\":\"0x8\",\n      \"count\":\"0x2\""));
        assertEquals("""
                Warning: Un-injecting previously injected errors here will
                not cause the kernel to 'forget' its badblock entries. Those
                have to be cleared through the normal process of writing
                the affected blocks

                {
                  "dev":"namespace0.0",
                  "mode":"raw",
                  "size":16777216,
                  "sector_size":512,
                  "blockdev":"pmem0"
                }
                """, run("inject-error pmem0 -B 8 -n 2 --uninject"));
        assertEquals("", run("inject-error namespace0.0 --status"), "no records: ndctl prints nothing");
    }

    @Test
    void errors() {
        assertEquals("""

                 usage: ndctl inject-error <namespace> [<options>]

                    -B, --block <namespace block offset (512B)>
                                          specify the block at which to (un)inject the error
                    -n, --count <count>   specify the number of blocks of errors to (un)inject
                    -d, --uninject        un-inject a previously injected error
                    -t, --status          get error injection status
                    -u, --human           use human friendly number formats\s

                """, run("inject-error --help"));
        assertEquals("  Error: namespace7.0: no such namespace",
                assertThrows(CommandException.class, () -> run("inject-error namespace7.0 --block=1 --count=1")).getMessage());
        assertEquals("  Error: block and count required for inject/uninject",
                assertThrows(CommandException.class, () -> run("inject-error namespace0.0 --block=1")).getMessage());
        assertEquals("  Error: status is invalid with inject or uninject",
                assertThrows(CommandException.class, () -> run("inject-error namespace0.0 --status --block=1")).getMessage());
        assertEquals("  Error: Invalid count: x",
                assertThrows(CommandException.class, () -> run("inject-error namespace0.0 --block=1 --count=x")).getMessage());
        assertEquals("Unknown command: 'frob'", assertThrows(CommandException.class, () -> run("frob")).getMessage());
    }

    /** ndctl 76.1's own help: --help, -h and help print its main usage (status 0); --list-cmds the commands. */
    @Test
    void mainHelpAndCommandList() {
        String help = "\n usage: ndctl [--version] [--help] COMMAND [ARGS]\n\n\n See 'ndctl help COMMAND' for more information on a specific command.\n"
                + " ndctl --list-cmds to see all available commands\n\n";
        assertEquals(help, run("--help"));
        assertEquals(help, run("-h"));
        assertEquals(help, run("help"));
        assertEquals("inject-error\nlist\nhelp\n", run("--list-cmds"));
        assertEquals(run("list --help"), run("help list"));
        assertEquals("Unknown command: 'frob'", assertThrows(CommandException.class, () -> run("help frob")).getMessage());
    }

    /** The words and exit statuses of ndctl 76.1 (parse-options' usage 129, -EINVAL 234, -ENXIO 250). */
    @Test
    void exitStatusesAndUsageErrors() {
        String usage = run("inject-error --help").stripTrailing();
        record Case(String line, String message, int status) {}
        for (Case c : List.of(
                new Case("inject-error namespace7.0 --block=1 --count=1", "  Error: namespace7.0: no such namespace", 250),
                new Case("inject-error namespace0.0", "  Error: block and count required for inject/uninject", 234),
                new Case("inject-error namespace0.0 --status --block=1", "  Error: status is invalid with inject or uninject", 234),
                new Case("inject-error namespace0.0 -B x -n 1", "  Error: Invalid block: x", 234),
                new Case("inject-error --nosuch namespace0.0", "  Error: unknown option `nosuch'\n" + usage, 129),
                new Case("inject-error -x namespace0.0", "  Error: unknown switch `x'\n" + usage, 129),
                new Case("inject-error namespace0.0 extra --status", "  Error: unknown extra parameter \"extra\"\n\n" + usage, 129),
                new Case("inject-error --status", "  Error: specify a namespace to inject error to\n\n" + usage, 129),
                new Case("inject-error --block", "  Error: option `block' requires a value\n" + usage, 129),
                new Case("list --frob", "  Error: unknown option `frob'\n" + run("list --help").stripTrailing(), 129),
                new Case("list -h", run("list --help").stripTrailing(), 129),
                new Case("inject-error -h", usage, 129),
                new Case("list -m x", "  Error: invalid mode: 'x'", 234),
                new Case("frob", "Unknown command: 'frob'", 1),
                new Case("", "\n usage: ndctl [--version] [--help] COMMAND [ARGS]\n\n\n See 'ndctl help COMMAND' for more information on a specific command.", 1))) {
            CommandException e = assertThrows(CommandException.class, () -> run(c.line()), c.line());
            assertEquals(c.message(), e.getMessage(), c.line());
            assertEquals(c.status(), e.exitStatus(), c.line());
        }
    }
}
