package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmstack.shell.dd.Dd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DdTest {
    @TempDir Path dir;
    private Stack stack;

    @BeforeEach
    void setUp() {
        stack = new Stack();
        stack.ram(0, 1 << 20);
        stack.ram(1, 1 << 20);
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    /** A clock at 0 for the first reading and 2 s for every later one: every copy takes "2 s". */
    private Dd dd() {
        AtomicInteger calls = new AtomicInteger();
        return new Dd(stack.registry, dir, () -> calls.getAndIncrement() == 0 ? 0 : 2_000_000_000L);
    }

    @Test
    void ddHoldsItsDevicesOpenWhileItCopies() {
        // open(2) of a block device is blkdev_get_by_dev: dd is one opener of each until it closes them.
        org.dmstack.block.DevT ram0 = stack.registry.lookup("ram0").devt(), ram1 = stack.registry.lookup("ram1").devt();
        java.util.List<String> seen = new java.util.ArrayList<>();
        Dd dd = new Dd(stack.registry, dir, () -> {
            seen.add(stack.registry.openCount(ram0) + " " + stack.registry.openCount(ram1) + " " + stack.registry.openers(ram0));
            return 0;
        });
        Stack.capture((out, err) -> dd.run(Stack.words("if=/dev/ram0 of=/dev/ram1 bs=4k count=2 status=none"), out, err));
        assertTrue(seen.size() >= 2, "the clock is read at the start and at the end of the copy: " + seen);
        assertEquals(java.util.Set.of("1 1 [dd]"), java.util.Set.copyOf(seen), "ram0 and ram1 open, by dd, whenever the clock is read");
        assertEquals(0, stack.registry.openCount(ram0));
        assertEquals(0, stack.registry.openCount(ram1));
    }

    private String run(String line) {
        Dd dd = dd();
        return Stack.capture((out, err) -> dd.run(Stack.words(line), out, err));
    }

    /** Runs a failing dd; returns what it printed, then the exception's message. */
    private String fail(String line) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Dd dd = dd();
        CommandException e = assertThrows(CommandException.class,
                () -> dd.run(Stack.words(line), new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8)));
        return err.toString(StandardCharsets.UTF_8) + "!" + e.getMessage();
    }

    private byte[] read(String device) throws Exception {
        Path f = dir.resolve("dump-" + device);
        run("if=/dev/" + device + " of=" + f + " bs=64K");
        return Files.readAllBytes(f);
    }

    @Test
    void zeroToDeviceSummary() {
        assertEquals("--err--\n4+0 records in\n4+0 records out\n262144 bytes (262 kB, 256 KiB) copied, 2 s, 131 kB/s\n",
                run("if=/dev/zero of=/dev/ram0 bs=64K count=4"));
        assertEquals("--err--\n1+0 records in\n1+0 records out\n100 bytes copied, 2 s, 50 B/s\n", run("if=/dev/zero of=/dev/null bs=100 count=1"));
        assertEquals("--err--\n2+0 records in\n2+0 records out\n", run("if=/dev/zero of=/dev/null count=2 status=noxfer"));
        assertEquals("", run("if=/dev/zero of=/dev/null count=2 status=none"));
    }

    @Test
    void deviceToFileToDeviceWithPartialRecords() throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(7).nextBytes(data);
        Path src = dir.resolve("src.bin");
        Files.write(src, data);
        assertEquals("--err--\n1048+1 records in\n1048+1 records out\n1048576 bytes (1.0 MB, 1.0 MiB) copied, 2 s, 524 kB/s\n",
                run("if=src.bin of=/dev/ram0 bs=1000"));
        assertArrayEquals(data, read("ram0"));
        run("if=/dev/ram0 of=/dev/mapper/lv1 bs=3000 conv=fsync".replace("/dev/mapper/lv1", "/dev/ram1"));
        assertArrayEquals(data, read("ram1"));
    }

    @Test
    void skipAndSeekInBlocks() throws Exception {
        byte[] data = new byte[8192];
        new Random(3).nextBytes(data);
        Files.write(dir.resolve("src.bin"), data);
        stack.dm.create("lv0", "0 2048 linear ram1 0");
        run("if=src.bin of=/dev/mapper/lv0 bs=1K skip=2 seek=5 count=3 oflag=direct");
        byte[] dev = read("ram1");
        assertArrayEquals(Arrays.copyOfRange(data, 2048, 5120), Arrays.copyOfRange(dev, 5120, 8192));
        assertArrayEquals(new byte[5120], Arrays.copyOfRange(dev, 0, 5120));
    }

    @Test
    void outputFileIsTruncatedUnlessNotrunc() throws Exception {
        Path f = dir.resolve("out.bin");
        Files.write(f, new byte[10000]);
        run("if=/dev/zero of=out.bin bs=1000 count=1");
        assertEquals(1000, Files.size(f));
        Files.write(f, new byte[10000]);
        run("if=/dev/zero of=out.bin bs=1000 count=1 conv=notrunc");
        assertEquals(10000, Files.size(f));
    }

    @Test
    void writingPastTheEndStopsWithENOSPC() {
        // Printed once, by whoever reports the failure: the error line, then the closing lines, as GNU dd orders them.
        assertEquals("!dd: error writing '/dev/ram0': No space left on device\n3+0 records in\n2+0 records out\n"
                + "1048576 bytes (1.0 MB, 1.0 MiB) copied, 2 s, 524 kB/s",
                fail("if=/dev/zero of=/dev/ram0 bs=512K count=3"));
        assertEquals("!dd: error writing '/dev/ram0': No space left on device", fail("if=/dev/zero of=/dev/ram0 bs=512K count=3 status=none"));
    }

    @Test
    void progressLineThenSummary() {
        String out = run("if=/dev/zero of=/dev/null bs=1M count=3 status=progress");
        assertEquals("--err--\n1048576 bytes (1.0 MB, 1.0 MiB) copied, 2 s, 524 kB/s\r\n3+0 records in\n3+0 records out\n"
                + "3145728 bytes (3.1 MB, 3.0 MiB) copied, 2 s, 1.6 MB/s\n", out);
    }

    @Test
    void badOperands() {
        // The words of coreutils 9.1's dd (LC_ALL=C): a wrong operand or option sends to --help, a bad number does not.
        String tryHelp = "\nTry 'dd --help' for more information.";
        assertEquals("!dd: unrecognized operand 'foo'" + tryHelp, fail("if=/dev/zero of=/dev/null foo"));
        assertEquals("!dd: unrecognized operand 'nosuch=1'" + tryHelp, fail("if=/dev/zero of=/dev/null nosuch=1"));
        assertEquals("!dd: unrecognized option '--nosuch'" + tryHelp, fail("--nosuch"));
        assertEquals("!dd: invalid option -- 'x'" + tryHelp, fail("-x"));
        assertEquals("!dd: invalid number: 'x'", fail("if=/dev/zero of=/dev/null bs=x"));
        assertEquals("!dd: invalid number: '0'", fail("if=/dev/zero of=/dev/null bs=0"));
        assertEquals("!dd: invalid number: '-1'", fail("if=/dev/zero of=/dev/null count=-1"));
        assertEquals("!dd: invalid status level: 'x'" + tryHelp, fail("if=/dev/zero of=/dev/null status=x"));
        assertEquals("!dd: invalid conversion: 'x'" + tryHelp, fail("if=/dev/zero of=/dev/null conv=x"));
        assertEquals("!dd: conversion 'sparse' is not supported" + tryHelp, fail("if=/dev/zero of=/dev/null conv=sparse"));
        assertEquals("!dd: invalid output flag: 'x'" + tryHelp, fail("if=/dev/zero of=/dev/null oflag=x"));
        assertEquals("!dd: invalid output flag: 'fullblock'" + tryHelp, fail("if=/dev/zero of=/dev/null oflag=fullblock"));
        assertEquals("!dd: invalid input flag: 'seek_bytes'" + tryHelp, fail("if=/dev/zero of=/dev/null iflag=seek_bytes"));
        assertEquals("!dd: output flag 'append' is not supported" + tryHelp, fail("if=/dev/zero of=/dev/null oflag=append"));
        assertTrue(fail("of=/dev/null").startsWith("!dd: missing if=FILE"));
        assertEquals("!dd: failed to open 'nothing.bin': No such file or directory", fail("if=nothing.bin of=/dev/null"));
        assertEquals("!dd: failed to open '/dev/ram7': No such file or directory", fail("if=/dev/zero of=/dev/ram7"));
    }

    @Test
    void ibsAndObsApartCutTheInputIntoOutputRecords() throws IOException {
        // dd 9.1: "3+0 records in", "5+1 records out", 3000 bytes.
        assertEquals("--err--\n3+0 records in\n5+1 records out\n3000 bytes (3.0 kB, 2.9 KiB) copied, 2 s, 1.5 kB/s\n",
                run("if=/dev/zero of=/dev/null count=3 ibs=1000 obs=512"));
        assertEquals("--err--\n0+1 records in\n0+1 records out\n3 bytes copied, 2 s, 1.5 B/s\n",
                run("if=/dev/zero of=/dev/null count=3 ibs=1000 obs=512 iflag=count_bytes"));
        assertEquals("--err--\n2+0 records in\n2+0 records out\n12 bytes copied, 2 s, 6 B/s\n", run("if=/dev/zero of=/dev/null count=2 bs=2x3"));
        byte[] data = new byte[5000];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7);
        Files.write(dir.resolve("in.bin"), data);
        run("if=in.bin of=out.bin ibs=700 obs=300 skip=100B seek=3 status=none");
        byte[] out = Files.readAllBytes(dir.resolve("out.bin"));
        assertEquals(900 + 4900, out.length);
        assertEquals(Arrays.toString(Arrays.copyOfRange(data, 100, 5000)),
                Arrays.toString(Arrays.copyOfRange(out, 900, out.length)));
    }

    @Test
    void aFailingDeviceSaysInputOutputErrorWithItsReason() {
        stack.failing(2, 1 << 20, "medium error at sector 0");
        assertEquals("!dd: error reading '/dev/bad2': Input/output error (medium error at sector 0)\n0+0 records in\n0+0 records out\n"
                + "0 bytes copied, 2 s, 0 B/s", fail("if=/dev/bad2 of=/dev/null bs=4K count=1"));
        assertEquals("!dd: error writing '/dev/bad2': Input/output error (medium error at sector 0)\n1+0 records in\n0+0 records out\n"
                + "0 bytes copied, 2 s, 0 B/s", fail("if=/dev/zero of=/dev/bad2 bs=4K count=1"));
    }

    @Test
    void helpPrintsTheUsage() {
        assertEquals(Dd.USAGE, run("--help"));
    }
}
