//! floe-node
