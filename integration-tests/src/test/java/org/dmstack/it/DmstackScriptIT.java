package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ./dmstack script at the repository root, run as a user would. */
class DmstackScriptIT {
    static final Path ROOT = Path.of(System.getProperty("dmstack.it.root", "..")).toAbsolutePath().normalize();
    @TempDir Path dir;

    private record Run(int exit, String out, String err) {}

    private Run dmstack(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("dmstack").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "dmstack did not finish");
        return new Run(p.exitValue(), Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8), Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void commandsRunOnTheDeclaredStackAndExitZero() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("z.table"), "# a device of zeros\n0 2048 zero\n");
        Run r = dmstack("--config", config.toString(), "-c", "dmsetup ls; dmsetup table");
        assertEquals(0, r.exit(), r.err());
        assertEquals("z\t(254:0)\nz: 0 2048 zero \n", r.out(), r.err());
    }

    @Test
    void aFailingCommandExitsNonZeroWithItsError() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Run r = dmstack("--config", config.toString(), "-c", "dmsetup remove nosuch");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("device-mapper: remove ioctl on nosuch  failed: No such device or address\nCommand failed."), r.err());
    }

    @Test
    void aScriptFileOfCommands() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("z.table"), "0 16 zero\n");
        Path script = dir.resolve("cmds.gosh");
        Files.writeString(script, "dmsetup create e --table '0 8 error'\ndmsetup ls\n");
        Run r = dmstack("--config", config.toString(), script.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("e\t(254:1)\nz\t(254:0)\n", r.out());
        assertEquals(2, dmstack("--bogus").exit());
    }
}
