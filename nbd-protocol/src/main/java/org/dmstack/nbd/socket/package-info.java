/**
 * What both ends of an NBD connection do to their TCP sockets on Linux that Java does not offer:
 * find a channel's file descriptor ({@link org.dmstack.nbd.socket.SocketDescriptor}) and take a
 * pacing congestion control off a connection within this host ({@link org.dmstack.nbd.socket.LocalPacing}).
 */
@Export
@Version("1.0.0")
package org.dmstack.nbd.socket;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
