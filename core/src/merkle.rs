//! Blake2b-256 Merkle trees as Walrus builds them.
//!
//! Leaf = `H(0x00 || data)`, inner = `H(0x01 || left || right)`; a level with
//! an odd number of nodes is padded with the `Empty` node (32 zero bytes, not
//! hashed). Encoding a blob at n = 1000 hashes a million leaves and two million
//! inner nodes, so the bulk paths hash many short inputs at once with the SIMD
//! many-input API of `blake2b_simd`.

use blake2b_simd::{
    Params, State,
    many::{HashManyJob, hash_many, update_many},
};
use serde::{Deserialize, Serialize};

/// A 32-byte digest.
pub type Digest = [u8; 32];

const LEAF_PREFIX: u8 = 0x00;
const INNER_PREFIX: u8 = 0x01;
/// The digest of the Empty padding node.
pub const EMPTY_NODE: Digest = [0u8; 32];
/// How many hashes are prepared before one call into the SIMD hasher.
const HASH_BATCH: usize = 256;

fn params() -> Params {
    let mut p = Params::new();
    p.hash_length(32);
    p
}

/// Blake2b with a 32-byte output (Walrus's `Blake2b256`).
pub fn blake2b256(data: &[u8]) -> Digest {
    to_digest(params().hash(data).as_bytes())
}

fn to_digest(bytes: &[u8]) -> Digest {
    let mut d = [0u8; 32];
    d.copy_from_slice(bytes);
    d
}

/// A node of a Merkle tree as Walrus serialises it: `Empty` (tag 0) or a
/// 32-byte `Digest` (tag 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Node {
    /// The padding node; its bytes are 32 zeros.
    Empty,
    /// A hash.
    Digest(Digest),
}

impl Node {
    /// The 32 bytes this node contributes to its parent's hash.
    pub fn bytes(&self) -> &Digest {
        match self {
            Node::Empty => &EMPTY_NODE,
            Node::Digest(d) => d,
        }
    }
}

impl From<Digest> for Node {
    fn from(d: Digest) -> Self {
        Node::Digest(d)
    }
}

/// Hash of one leaf: `H(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Digest {
    let mut state = params().to_state();
    state.update(&[LEAF_PREFIX]).update(data);
    to_digest(state.finalize().as_bytes())
}

/// Hash of an inner node: `H(0x01 || left || right)`.
pub fn inner_hash(left: &Digest, right: &Digest) -> Digest {
    let mut input = [0u8; 65];
    input[0] = INNER_PREFIX;
    input[1..33].copy_from_slice(left);
    input[33..].copy_from_slice(right);
    blake2b256(&input)
}

/// Leaves at least this long are hashed in place (streaming states) rather
/// than copied behind their prefix byte.
const STREAM_LEAF_LEN: usize = 512;
/// Leaves hashed in lockstep when streaming.
const STREAM_BATCH: usize = 8;

/// Hashes many leaves at once: `out[i] = H(0x00 || leaves[i])`.
///
/// `leaves` yields the leaf contents in order; `out` must have one slot per
/// leaf. Uses the SIMD many-input hasher in batches: short leaves are copied
/// behind their prefix into one buffer; long ones are fed to SIMD states in
/// place, which saves copying every symbol of a large blob.
pub fn leaf_hashes<'a>(leaves: impl IntoIterator<Item = &'a [u8]>, out: &mut [Digest]) {
    let mut leaves = leaves.into_iter().peekable();
    if leaves.peek().is_some_and(|l| l.len() >= STREAM_LEAF_LEN) {
        return leaf_hashes_streaming(leaves, out);
    }
    leaf_hashes_copying(leaves, out);
}

fn leaf_hashes_streaming<'a>(leaves: impl Iterator<Item = &'a [u8]>, out: &mut [Digest]) {
    let mut prefixed = params().to_state();
    prefixed.update(&[LEAF_PREFIX]);
    let mut states: Vec<State> = Vec::with_capacity(STREAM_BATCH);
    let mut inputs: Vec<&[u8]> = Vec::with_capacity(STREAM_BATCH);
    let mut written = 0;
    let mut flush = |states: &mut Vec<State>, inputs: &mut Vec<&[u8]>, written: &mut usize| {
        update_many(states.iter_mut().zip(inputs.iter()));
        for (state, slot) in states.iter().zip(&mut out[*written..]) {
            *slot = to_digest(state.finalize().as_bytes());
        }
        *written += states.len();
        states.clear();
        inputs.clear();
    };
    for leaf in leaves {
        states.push(prefixed.clone());
        inputs.push(leaf);
        if states.len() == STREAM_BATCH {
            flush(&mut states, &mut inputs, &mut written);
        }
    }
    if !states.is_empty() {
        flush(&mut states, &mut inputs, &mut written);
    }
    debug_assert_eq!(written, out.len());
}

fn leaf_hashes_copying<'a>(leaves: impl Iterator<Item = &'a [u8]>, out: &mut [Digest]) {
    let p = params();
    let mut scratch: Vec<u8> = Vec::new();
    let mut lens: Vec<usize> = Vec::with_capacity(HASH_BATCH);
    let mut written = 0usize;
    let mut flush = |scratch: &mut Vec<u8>, lens: &mut Vec<usize>, written: &mut usize| {
        let mut jobs: Vec<HashManyJob<'_>> = Vec::with_capacity(lens.len());
        let mut offset = 0;
        for &len in lens.iter() {
            jobs.push(HashManyJob::new(&p, &scratch[offset..offset + len]));
            offset += len;
        }
        hash_many(jobs.iter_mut());
        for (job, slot) in jobs.iter().zip(&mut out[*written..]) {
            *slot = to_digest(job.to_hash().as_bytes());
        }
        *written += lens.len();
        scratch.clear();
        lens.clear();
    };
    for leaf in leaves {
        scratch.push(LEAF_PREFIX);
        scratch.extend_from_slice(leaf);
        lens.push(leaf.len() + 1);
        if lens.len() == HASH_BATCH {
            flush(&mut scratch, &mut lens, &mut written);
        }
    }
    if !lens.is_empty() {
        flush(&mut scratch, &mut lens, &mut written);
    }
    debug_assert_eq!(written, out.len());
}

/// Replaces `level` (length >= 2) by its parent level, in place, padding an
/// odd level with the Empty node. Returns the parent level's length.
fn reduce_level(level: &mut [Digest], len: usize) -> usize {
    let parents = len.div_ceil(2);
    let p = params();
    let mut inputs = [[0u8; 65]; HASH_BATCH];
    let mut start = 0;
    while start < parents {
        let end = (start + HASH_BATCH).min(parents);
        for (slot, parent) in inputs.iter_mut().zip(start..end) {
            slot[0] = INNER_PREFIX;
            slot[1..33].copy_from_slice(&level[2 * parent]);
            let right = if 2 * parent + 1 < len {
                &level[2 * parent + 1]
            } else {
                &EMPTY_NODE
            };
            slot[33..].copy_from_slice(right);
        }
        let mut jobs: Vec<HashManyJob<'_>> = inputs[..end - start]
            .iter()
            .map(|input| HashManyJob::new(&p, input))
            .collect();
        hash_many(jobs.iter_mut());
        for (job, parent) in jobs.iter().zip(start..end) {
            level[parent] = to_digest(job.to_hash().as_bytes());
        }
        start = end;
    }
    parents
}

/// The Merkle root over already-hashed leaves. `leaves` is used as scratch.
/// No leaves gives the Empty node; one leaf is its own root.
pub fn root_from_leaf_hashes(leaves: &mut [Digest]) -> Node {
    let mut len = leaves.len();
    if len == 0 {
        return Node::Empty;
    }
    while len > 1 {
        len = reduce_level(leaves, len);
    }
    Node::Digest(leaves[0])
}

/// A whole Merkle tree, kept to answer proofs.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// levels[0] = leaf hashes, last = [root].
    levels: Vec<Vec<Digest>>,
}

impl MerkleTree {
    /// Builds the tree over the given leaf contents.
    pub fn build<'a>(leaves: impl ExactSizeIterator<Item = &'a [u8]>) -> Self {
        let mut hashes = vec![EMPTY_NODE; leaves.len()];
        leaf_hashes(leaves, &mut hashes);
        Self::from_leaf_hashes(hashes)
    }

    /// Builds the tree over already-hashed leaves.
    pub fn from_leaf_hashes(leaf_hashes: Vec<Digest>) -> Self {
        let mut levels = vec![leaf_hashes];
        while levels.last().map_or(0, Vec::len) > 1 {
            let mut next = levels.last().cloned().unwrap_or_default();
            let len = next.len();
            let parents = reduce_level(&mut next, len);
            next.truncate(parents);
            levels.push(next);
        }
        Self { levels }
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.levels[0].len()
    }

    /// The root (Empty for a tree without leaves).
    pub fn root(&self) -> Node {
        match self.levels.last() {
            Some(top) if !top.is_empty() => Node::Digest(top[0]),
            _ => Node::Empty,
        }
    }

    /// The proof for leaf `index`, or `None` when out of range.
    pub fn proof(&self, index: usize) -> Option<MerkleProof> {
        if index >= self.n_leaves() {
            return None;
        }
        let mut path = Vec::with_capacity(self.levels.len().saturating_sub(1));
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = i ^ 1;
            path.push(match level.get(sibling) {
                Some(d) => Node::Digest(*d),
                None => Node::Empty,
            });
            i /= 2;
        }
        Some(MerkleProof { path })
    }
}

/// A Merkle inclusion proof: the sibling of each node on the way from the
/// leaf to the root, leaf level first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    /// Siblings from the leaf level upwards.
    pub path: Vec<Node>,
}

impl MerkleProof {
    /// Longest path a tree over `n_leaves` leaves has: `ceil(log2(n_leaves))`.
    pub fn max_path_len(n_leaves: usize) -> usize {
        if n_leaves <= 1 {
            0
        } else {
            (usize::BITS - (n_leaves - 1).leading_zeros()) as usize
        }
    }

    /// Checks that `leaf_data` is leaf `index` of a tree over `n_leaves`
    /// leaves with root `root`.
    pub fn verify(&self, root: &Node, leaf_data: &[u8], index: usize, n_leaves: usize) -> bool {
        self.verify_leaf_hash(root, &leaf_hash(leaf_data), index, n_leaves)
    }

    /// Like [`verify`](Self::verify) with an already hashed leaf.
    pub fn verify_leaf_hash(
        &self,
        root: &Node,
        leaf: &Digest,
        index: usize,
        n_leaves: usize,
    ) -> bool {
        if index >= n_leaves || self.path.len() > Self::max_path_len(n_leaves) {
            return false;
        }
        // The index must be consumed entirely by the path, or two different
        // indices would verify with the same proof.
        if (index >> self.path.len()) != 0 {
            return false;
        }
        let mut current = *leaf;
        let mut i = index;
        for sibling in &self.path {
            current = if i & 1 == 0 {
                inner_hash(&current, sibling.bytes())
            } else {
                inner_hash(sibling.bytes(), &current)
            };
            i >>= 1;
        }
        Node::Digest(current) == *root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_matches_the_definition() {
        let leaves: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 3]).collect();
        let l: Vec<Digest> = leaves.iter().map(|x| leaf_hash(x)).collect();
        let a = inner_hash(&l[0], &l[1]);
        let b = inner_hash(&l[2], &l[3]);
        let c = inner_hash(&l[4], &EMPTY_NODE);
        let ab = inner_hash(&a, &b);
        let cc = inner_hash(&c, &EMPTY_NODE);
        let root = inner_hash(&ab, &cc);
        let tree = MerkleTree::build(leaves.iter().map(Vec::as_slice));
        assert_eq!(tree.root(), Node::Digest(root));
        let mut hashed = l.clone();
        assert_eq!(root_from_leaf_hashes(&mut hashed), Node::Digest(root));
    }

    #[test]
    fn max_path_len_is_ceil_log2() {
        for (n, len) in [
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (9, 4),
            (1000, 10),
        ] {
            assert_eq!(MerkleProof::max_path_len(n), len, "n={n}");
        }
        assert_eq!(MerkleProof::max_path_len(usize::MAX), 64);
    }

    #[test]
    fn proofs_verify_and_reject() {
        for n in 1..40usize {
            let leaves: Vec<Vec<u8>> = (0..n).map(|i| (i as u32).to_le_bytes().to_vec()).collect();
            let tree = MerkleTree::build(leaves.iter().map(Vec::as_slice));
            let root = tree.root();
            for (i, leaf) in leaves.iter().enumerate() {
                let proof = tree.proof(i).unwrap();
                assert!(proof.path.len() <= MerkleProof::max_path_len(n));
                assert!(proof.verify(&root, leaf, i, n));
                assert!(!proof.verify(&root, b"other", i, n));
                assert!(!proof.verify(&root, leaf, i + (1 << proof.path.len()), usize::MAX));
                assert!(!proof.verify(&root, leaf, i, i));
                if n > 1 {
                    assert!(!proof.verify(&root, leaf, (i + 1) % n, n));
                }
            }
            assert!(tree.proof(n).is_none());
        }
    }

    #[test]
    fn batched_leaf_hashes_equal_single_ones() {
        let leaves: Vec<Vec<u8>> = (0..600).map(|i| vec![(i % 251) as u8; i % 70]).collect();
        let mut out = vec![EMPTY_NODE; leaves.len()];
        leaf_hashes(leaves.iter().map(Vec::as_slice), &mut out);
        for (leaf, h) in leaves.iter().zip(&out) {
            assert_eq!(*h, leaf_hash(leaf));
        }
        // Long leaves take the streaming path.
        let long: Vec<Vec<u8>> = (0..21).map(|i| vec![i as u8; 512 + i * 100]).collect();
        let mut out = vec![EMPTY_NODE; long.len()];
        leaf_hashes(long.iter().map(Vec::as_slice), &mut out);
        for (leaf, h) in long.iter().zip(&out) {
            assert_eq!(*h, leaf_hash(leaf));
        }
    }
}
