/**
 * IovIter: iterators over caller buffers (IOVEC, KVEC, BVEC) and pipes, with the copy helpers of lib/iov_iter.c.
 */
@Export
@Version("0.1.0")
package org.dmstack.iov;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
