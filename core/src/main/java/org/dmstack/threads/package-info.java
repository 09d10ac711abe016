/**
 * Core's own per-thread lookups, beside the bio and DAX paths that use them; not exported. It
 * imports nothing of dmstack's.
 */
package org.dmstack.threads;
