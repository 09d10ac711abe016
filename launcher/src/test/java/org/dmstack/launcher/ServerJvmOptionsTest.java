package org.dmstack.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** scripts/server-jvm-options, which bin/dmstack and the NBD benchmarks start the server with. */
class ServerJvmOptionsTest {
    private static final Path SCRIPT = Path.of("..", "scripts", "server-jvm-options").toAbsolutePath().normalize();
    private static final List<String> ALWAYS = List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmn512m");

    /** The lines {@code command} prints on stdout; it must succeed. */
    private static List<String> stdout(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.valueOf(command));
        return out.lines().toList();
    }

    @Test
    void theOptionsBinDmstackAndTheBenchmarksServeWith() throws Exception {
        assertEquals(ALWAYS, stdout(List.of(SCRIPT.toString())));
    }

    /** Whatever the JVM prints of its own on stdout (a warning about an option) would end up in every command's output. */
    @Test
    void theJvmSaysNothingOfItsOwnOnStdoutWithTheseOptions() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> withOptions = new ArrayList<>(List.of(java));
        withOptions.addAll(stdout(List.of(SCRIPT.toString())));
        withOptions.add("--version");
        assertEquals(stdout(List.of(java, "--version")), stdout(withOptions));
    }
}
