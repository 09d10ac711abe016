package org.dmstack.shell;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How every getopt-style shell command runs its command line through picocli: {@code --help}
 * prints the usage on the output stream and runs nothing; wrong arguments end in a
 * {@link CommandException} with the reason and the usage; otherwise the (sub)command named runs,
 * and what it throws passes through unchanged.
 */
public final class Cli {
    private Cli() {}

    /** @param command a picocli command whose (sub)command objects are {@link Runnable} */
    public static void run(CommandLine command, List<String> args, PrintStream out) {
        command.setColorScheme(Help.defaultColorScheme(Help.Ansi.OFF));
        PrintWriter writer = new PrintWriter(new OutputStreamWriter(out, out.charset()), true);
        command.setOut(writer);
        ParseResult parsed;
        try {
            parsed = command.parseArgs(args.toArray(String[]::new));
        } catch (ParameterException e) {
            throw usageError(e);
        }
        if (CommandLine.printHelpIfRequested(parsed)) {
            writer.flush();
            return;
        }
        while (parsed.hasSubcommand()) parsed = parsed.subcommand();
        ((Runnable) parsed.commandSpec().userObject()).run();
    }

    /** "PROGRAM: reason", then the usage of the (sub)command whose arguments were wrong. */
    private static CommandException usageError(ParameterException e) {
        CommandLine where = e.getCommandLine();
        String program = where.getCommandSpec().qualifiedName(" ");
        String reason = e.getMessage();
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String arg = u.getUnmatched().getFirst();
            boolean hasCommands = !where.getSubcommands().isEmpty();
            reason = arg.startsWith("-") && arg.length() > 1 ? "option '" + arg + "' is not supported"
                    : hasCommands ? "unknown command '" + arg + "'" : "unexpected argument '" + arg + "'";
        }
        return CommandException.usage(program + ": " + reason, where.getUsageMessage());
    }
}
