package org.dmstack.shell;

/**
 * A command that could not do what it was asked. The message is what the user sees, printed once
 * by whoever runs the command (Gogo's console, the launcher): the tool's own error line(s), and the
 * usage when the arguments were wrong. A command that throws it has printed nothing of the error
 * itself. A failed command has changed nothing unless its message says otherwise. Its
 * {@link #exitStatus()} is the one the Linux tool exits with for the same failure (1 unless the
 * tool says otherwise: lsblk's 32 and 64, ndctl's 129), which {@code dmstack -c} and
 * {@code dmstack ctl} exit with.
 */
public final class CommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitStatus;

    public CommandException(String message) {
        this(message, 1);
    }

    public CommandException(String message, int exitStatus) {
        super(message);
        this.exitStatus = exitStatus;
    }

    public CommandException(String message, Throwable cause) {
        super(message, cause);
        this.exitStatus = 1;
    }

    /** The Linux tool's exit status for this failure. */
    public int exitStatus() {
        return exitStatus;
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
