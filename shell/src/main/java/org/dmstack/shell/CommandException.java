package org.dmstack.shell;

/**
 * A command that could not do what it was asked. The message is what the user sees: the tool's
 * own error line(s), and the usage when the arguments were wrong. A failed command has changed
 * nothing unless its message says otherwise.
 */
public final class CommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommandException(String message) {
        super(message);
    }

    public CommandException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A usage error: the reason, then the usage text. */
    public static CommandException usage(String reason, String usage) {
        return new CommandException(reason + "\n" + usage.stripTrailing());
    }
}
