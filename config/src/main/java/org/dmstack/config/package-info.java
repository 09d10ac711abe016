/**
 * Declarative stacks: the config folder's {@code NAME.table} files and short-named {@code .cfg}
 * files, as plain classes; the FileInstall wiring is in the internal package.
 */
package org.dmstack.config;
