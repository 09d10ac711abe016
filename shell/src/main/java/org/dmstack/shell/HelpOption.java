package org.dmstack.shell;

import picocli.CommandLine.Option;

/** -h, --help: every command's and subcommand's, mixed in with {@code @Mixin}. */
public final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;
}
