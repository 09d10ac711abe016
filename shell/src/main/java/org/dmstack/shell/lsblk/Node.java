package org.dmstack.shell.lsblk;

import java.util.List;
import org.dmstack.block.BlockDevice;

/** A device in lsblk's tree: what it is, what it sits on here (null at the top), what sits on it. */
record Node(BlockDevice device, BlockDevice parent, List<Node> children) {}
