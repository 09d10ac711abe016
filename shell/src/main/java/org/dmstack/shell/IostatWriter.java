package org.dmstack.shell;

import org.dmstack.shell.Iostat.Host;
import org.dmstack.shell.IostatFigures.Report;

/** How iostat prints what it measured: as text ({@link IostatText}) or as JSON ({@link IostatJson}). */
interface IostatWriter {
    /** The header: the machine and the date (as iostat prints it: MM/dd/yy). */
    void start(Host host, String date);

    /** One report; the loop prints a newline after each. */
    void report(Report report);

    /** Between two reports, before the newline that follows the first. */
    default void between() {}

    /** After the last report. */
    default void end() {}
}
