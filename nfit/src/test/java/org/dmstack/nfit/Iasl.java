package org.dmstack.nfit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs ACPICA's iasl (Debian/Ubuntu package acpica-tools) and reads what it prints. When iasl is
 * missing, every caller fails with a message saying what to install: these tests are the
 * independent check of the parser and writer, so they must not be skipped silently.
 */
final class Iasl {
    private final Path executable;

    private Iasl(Path executable) {
        this.executable = executable;
    }

    /** iasl from the PATH, or a test failure naming the package to install. */
    static Iasl require() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "iasl");
            if (Files.isExecutable(p)) return new Iasl(p);
        }
        return fail("iasl (the ACPICA compiler/disassembler) is not on the PATH. These tests check the NFIT parser and "
                + "writer against it. Install it: apt-get install -y acpica-tools");
    }

    record Result(int exitCode, String output) {}

    Result run(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(executable.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("iasl " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), out);
    }

    /** {@code iasl -T NFIT}: ACPICA's own NFIT template source. */
    String template(Path dir) throws IOException, InterruptedException {
        Result r = run(dir, "-T", "NFIT");
        Path t = dir.resolve("nfit.asl");
        if (!Files.exists(t)) fail("iasl -T NFIT wrote no nfit.asl:\n" + r.output());
        return Files.readString(t, StandardCharsets.ISO_8859_1);
    }

    /** Compiles a data-table source to its binary, failing on any error or warning. */
    byte[] compile(Path dir, String name, String source) throws IOException, InterruptedException {
        Path src = dir.resolve(name + ".asl");
        Files.writeString(src, source, StandardCharsets.ISO_8859_1);
        Result r = run(dir, "-p", name, src.getFileName().toString());
        Path aml = dir.resolve(name + ".aml");
        if (r.exitCode() != 0 || !Files.exists(aml)) fail("iasl could not compile " + name + ":\n" + r.output());
        assertClean("iasl " + name + ".asl", r.output());
        return Files.readAllBytes(aml);
    }

    /** Disassembles a binary with {@code iasl -d}, failing on any error or warning; returns the .dsl text. */
    String disassemble(Path dir, String name, byte[] table) throws IOException, InterruptedException {
        Path bin = dir.resolve(name + ".dat");
        Files.write(bin, table);
        Result r = run(dir, "-d", bin.getFileName().toString());
        Path dsl = dir.resolve(name + ".dsl");
        if (r.exitCode() != 0 || !Files.exists(dsl)) fail("iasl -d failed for " + name + ":\n" + r.output());
        assertClean("iasl -d " + name, r.output());
        String text = Files.readString(dsl, StandardCharsets.ISO_8859_1);
        for (String line : text.split("\n")) {
            if (line.contains("****") || line.contains("Invalid") || line.contains("Unknown")) {
                fail("iasl -d " + name + " reported a problem in the table: " + line.trim() + "\n" + text);
            }
        }
        return text;
    }

    private static void assertClean(String what, String output) {
        Matcher m = Pattern.compile("(\\d+) Errors?, (\\d+) Warnings?").matcher(output);
        if (m.find()) {
            assertEquals("0 0", m.group(1) + " " + m.group(2), what + " reported errors or warnings:\n" + output);
        }
        for (String line : output.split("\n")) {
            String l = line.trim();
            if (l.startsWith("Error") || l.startsWith("Warning") || l.contains("**** ")) {
                fail(what + " reported: " + l + "\n" + output);
            }
        }
    }

    /**
     * One field line of a dump in iasl's format: {@code [HexOffset DecimalOffset ByteLength] Name : Value},
     * or a decoded flag bit ({@code offset} and {@code length} -1), with continuation lines joined.
     */
    record Field(int offset, int length, String name, String value) {
        @Override
        public String toString() {
            return (offset < 0 ? "         bit" : String.format("[%03Xh %3d]", offset, length)) + " " + name + " : " + value;
        }
    }

    private static final Pattern FIELD = Pattern.compile("^\\[([0-9A-Fa-f]+)h\\s+(\\d+)\\s+(\\d+)\\]\\s*(.*?)\\s+:\\s?(.*)$");
    private static final Pattern BIT = Pattern.compile("^\\s{8,}(\\S.*?)\\s+:\\s?(.*)$");

    /** The fields of an iasl-format dump, up to the raw data or summary that follows them. */
    static List<Field> fields(String dump) {
        List<Field> out = new ArrayList<>();
        String[] lines = dump.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("Raw Table Data") || line.startsWith("Summary:")) break;
            Matcher f = FIELD.matcher(line);
            if (f.matches()) {
                String value = f.group(5).trim();
                if (value.equals("\\")) {
                    StringBuilder v = new StringBuilder();
                    while (i + 1 < lines.length && lines[i + 1].startsWith("    ") && !lines[i + 1].isBlank()) {
                        String cont = lines[++i].trim();
                        if (cont.endsWith("\\")) cont = cont.substring(0, cont.length() - 1).trim();
                        v.append(v.isEmpty() ? "" : " ").append(cont);
                    }
                    value = v.toString();
                }
                out.add(new Field(Integer.parseInt(f.group(1), 16), Integer.parseInt(f.group(3)), f.group(4).trim(),
                        value.replaceAll("\\s+", " ")));
                continue;
            }
            Matcher b = BIT.matcher(line);
            if (b.matches() && !line.trim().startsWith("*") && !line.trim().startsWith("/*")) {
                out.add(new Field(-1, -1, b.group(1).trim(), b.group(2).trim()));
            }
        }
        return out;
    }
}
