package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release archive the reactor builds (launcher/target/dmstack-VERSION.tar.gz and .zip), unpacked
 * as a user would and run with nothing but a JDK 25: no Maven, no source tree, no JAVA_HOME.
 */
class ReleaseArchiveIT {
    static final Path ROOT = Path.of(System.getProperty("dmstack.it.root", "..")).toAbsolutePath().normalize();
    static final String VERSION = System.getProperty("dmstack.version");
    static final String BASE = "dmstack-" + VERSION;
    @TempDir Path dir;

    private static Path archive(String extension) {
        return ROOT.resolve("launcher/target/" + BASE + extension);
    }

    /** A PATH of just the programs bin/dmstack and bin/jdk25 use, so no Maven can be found on it. */
    private Path minimalPath() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("path"));
        for (String tool : List.of("bash", "env", "dirname", "mkdir", "sed")) {
            Path real = Stream.of("/usr/bin/", "/bin/").map(p -> Path.of(p + tool)).filter(Files::isExecutable).findFirst().orElseThrow();
            Files.createSymbolicLink(bin.resolve(tool), real);
        }
        return bin;
    }

    private record Ran(int status, String stdout, String stderr) {}

    /** Runs {@code command} in {@code cwd} with nothing in its environment but {@code env}, whatever its exit status. */
    private Ran execute(Path cwd, List<String> command, List<String> env) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("/usr/bin/env", "-i"));
        full.addAll(env);
        full.addAll(command);
        Path out = dir.resolve("out.txt"), err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(full).directory(cwd.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        return new Ran(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** Runs {@code command} as {@link #execute} does; it must succeed. Returns its stdout. */
    private String run(Path cwd, List<String> command, List<String> env) throws IOException, InterruptedException {
        Ran r = execute(cwd, command, env);
        assertEquals(0, r.status(), String.join(" ", command) + ": " + r.stderr());
        return r.stdout();
    }

    @Test
    void theUnpackedTarballRunsTheDemoStackWithOnlyAJdk() throws Exception {
        Path unpacked = Files.createDirectories(dir.resolve("unpacked"));
        run(unpacked, List.of("/bin/tar", "xzf", archive(".tar.gz").toString()), List.of("PATH=/usr/bin:/bin"));
        Path home = unpacked.resolve(BASE);
        for (String part : List.of("bin/dmstack", "bin/jdk25", "bin/server-jvm-options", "LICENSE", "etc/brd.cfg", "etc/fast.table", "conf/logback.xml")) {
            assertTrue(Files.exists(home.resolve(part)), part);
        }
        assertTrue(Files.isExecutable(home.resolve("bin/dmstack")));

        String out = run(home, List.of("bin/dmstack", "-c", "lsblk -a; dmsetup table"), List.of("PATH=" + minimalPath(), "HOME=" + dir));
        // fast and data are made as their devices appear (brd's or the NFIT platform's first), so
        // which is 254:0 and which 254:1 depends on start-up order, as in Linux: compare without it.
        assertEquals("""
                NAME   MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS
                ram0     1:0    0   64M  0 disk\s
                └─fast 254:N    0  128M  0 dm  \s
                ram1     1:1    0   64M  0 disk\s
                └─fast 254:N    0  128M  0 dm  \s
                pmem0  259:0    0  256M  0 disk\s
                └─data 254:N    0  192M  0 dm  \s
                pmem1  259:1    0   64M  0 disk\s
                └─data 254:N    0  192M  0 dm  \s
                data: 0 262144 linear 259:0 0
                data: 262144 131072 linear 259:1 0
                fast: 0 262144 striped 2 256 1:0 0 1:1 0
                """, out.replaceAll("254:[01] ", "254:N "));
        assertTrue(out.contains("254:0 ") && out.contains("254:1 "), out);
    }

    /** Without its JVM options the server would start all the same, only slower and warning: bin/dmstack stops instead. */
    @Test
    void binDmstackStopsWhenItCannotHaveItsJvmOptions() throws Exception {
        Path unpacked = Files.createDirectories(dir.resolve("unpacked"));
        run(unpacked, List.of("/bin/tar", "xzf", archive(".tar.gz").toString()), List.of("PATH=/usr/bin:/bin"));
        Path home = unpacked.resolve(BASE);
        Files.delete(home.resolve("bin/server-jvm-options"));

        Ran r = execute(home, List.of("bin/dmstack", "-c", "lsblk"), List.of("PATH=" + minimalPath(), "HOME=" + dir));
        assertEquals(127, r.status(), r.stderr());
        assertEquals("", r.stdout());
        assertTrue(r.stderr().contains("bin/server-jvm-options: No such file or directory"), r.stderr());
    }

    @Test
    void theZipHoldsTheSameFilesAsTheTarball() throws Exception {
        Path unpacked = Files.createDirectories(dir.resolve("unpacked"));
        run(unpacked, List.of("/bin/tar", "xzf", archive(".tar.gz").toString()), List.of("PATH=/usr/bin:/bin"));
        List<String> fromTar;
        try (Stream<Path> files = Files.walk(unpacked)) {
            fromTar = files.filter(Files::isRegularFile).map(p -> unpacked.relativize(p).toString()).sorted().toList();
        }
        List<String> fromZip;
        try (ZipFile zip = new ZipFile(archive(".zip").toFile())) {
            fromZip = Collections.list(zip.entries()).stream().filter(e -> !e.isDirectory()).map(ZipEntry::getName).sorted().toList();
        }
        assertEquals(fromTar, fromZip);
        assertTrue(fromZip.contains(BASE + "/bin/dmstack"));
    }
}
