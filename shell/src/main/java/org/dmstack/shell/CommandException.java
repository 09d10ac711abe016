package org.dmstack.shell;

/**
 * A command that could not do what it was asked. The message is what the user sees, printed once
 * by whoever runs the command (Gogo's console, the launcher): the tool's own error line(s), and the
 * usage when the arguments were wrong. A command that throws it has printed nothing of the error
 * itself. A failed command has changed nothing unless its message says otherwise.
 */
public final class CommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommandException(String message) {
        super(message);
    }

    public CommandException(String message, Throwable cause) {
        super(message, cause);
    }

    /** What a shell shows for a failed command: its message alone, as the Linux tools print theirs. */
    @Override
    public String toString() {
        return getMessage();
    }

    /** A usage error: the reason, then the usage text. */
    public static CommandException usage(String reason, String usage) {
        return new CommandException(reason + "\n" + usage.stripTrailing());
    }
}
