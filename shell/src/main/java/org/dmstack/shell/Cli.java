package org.dmstack.shell;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.OptionSpec;
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

    /**
     * How a tool built on glibc's getopt_long (util-linux's, coreutils') reports a wrong option:
     * getopt's own line, then "Try 'PROGRAM --help' for more information.", exit status 1. An
     * option the real tool has and dmstack does not is said to be not supported instead.
     *
     * @param lacking the real tool's options that dmstack does not offer ("-s", "--inverse")
     */
    public record Getopt(String program, Set<String> lacking) implements Errors {
        @Override
        public CommandException error(ParameterException e, List<String> args) {
            String reason;
            if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
                String arg = u.getUnmatched().getFirst();
                if (!arg.startsWith("-") || arg.equals("-")) reason = "unexpected argument '" + arg + "'";
                else if (arg.startsWith("--")) {
                    String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                    reason = lacking.contains(name) ? "option '" + name + "' is not supported" : "unrecognized option '" + arg + "'";
                } else {
                    String letter = firstUnknownLetter(e.getCommandLine(), arg);
                    reason = lacking.contains("-" + letter) ? "option '-" + letter + "' is not supported" : "invalid option -- '" + letter + "'";
                }
            } else if (e instanceof MissingParameterException && !args.isEmpty() && args.getLast().startsWith("-")) {
                String last = args.getLast();
                reason = last.startsWith("--") ? "option '" + last + "' requires an argument"
                        : "option requires an argument -- '" + last.charAt(last.length() - 1) + "'";
            } else {
                reason = e.getMessage();
            }
            return new CommandException(program + ": " + reason + "\nTry '" + program + " --help' for more information.");
        }

        /** getopt's words for a wrong option ("unrecognized option '--x'"), or null when the arguments were wrong otherwise. */
        public String optionError(ParameterException e, List<String> args) {
            CommandException c = error(e, args);
            String reason = c.getMessage().substring(program.length() + 2, c.getMessage().indexOf('\n'));
            boolean aboutOption = e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty() && u.getUnmatched().getFirst().startsWith("-")
                    || e instanceof MissingParameterException && !args.isEmpty() && args.getLast().startsWith("-");
            return aboutOption ? program + ": " + reason : null;
        }

        /** In a cluster of short options ("-bq"), the first letter that is none of the command's. */
        private static String firstUnknownLetter(CommandLine command, String arg) {
            for (int i = 1; i < arg.length(); i++) {
                OptionSpec o = command.getCommandSpec().findOption(arg.charAt(i));
                if (o == null) return String.valueOf(arg.charAt(i));
                if (o.arity().max() > 0) break;
            }
            return arg.substring(1, 2);
        }
    }

    /** How a command reports a command line it cannot take, as its Linux tool does. */
    @FunctionalInterface
    public interface Errors {
        CommandException error(ParameterException e, List<String> args);
    }

    /** @param command a picocli command whose (sub)command objects are {@link Runnable} */
    public static void run(CommandLine command, List<String> args, PrintStream out) {
        run(command, args, out, null);
    }

    /** As {@link #run(CommandLine, List, PrintStream)}, with wrong arguments reported by {@code getopt} (as getopt's tool does). */
    public static void run(CommandLine command, List<String> args, PrintStream out, Errors getopt) {
        command.setColorScheme(Help.defaultColorScheme(Help.Ansi.OFF));
        PrintWriter writer = new PrintWriter(new OutputStreamWriter(out, out.charset()), true);
        command.setOut(writer);
        // getopt lets a later option override an earlier one ("-o NAME -o SIZE").
        if (getopt != null) command.setOverwrittenOptionsAllowed(true);
        ParseResult parsed;
        try {
            parsed = command.parseArgs(args.toArray(String[]::new));
        } catch (ParameterException e) {
            throw getopt != null ? getopt.error(e, args) : usageError(e);
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
