/**
 * The shell commands: dmsetup, lsblk, sysfs, dd and ndctl with the Linux tools' output, as plain
 * classes that print to a stream and throw {@link org.dmstack.shell.CommandException} with the
 * message a user should see. The Gogo wrappers live in the internal package.
 */
package org.dmstack.shell;
