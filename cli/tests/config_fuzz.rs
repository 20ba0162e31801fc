//! Every config file decoder against hostile text: the node's, the
//! indexer's and the coordinator's TOML, the client's YAML, and the
//! ledger's genesis (TOML with its `[floe]` table, as `floe ledger run`
//! splits and parses it).
//!
//! Valid documents are mutated line by line (a value replaced by a huge,
//! negative, fractional, empty, wrongly typed or very long one; a line
//! removed, duplicated or moved; a table or key from another section
//! inserted) and byte by byte (cut, overwritten, spliced), and arbitrary
//! text is fed too. A decoder may refuse; it must never panic, and a
//! refusal must say what is wrong (a non-empty message). The valid
//! documents must parse, so the mutants start from something accepted.
//!
//! Cases: `FLOE_FUZZ_CASES` (default 256, what CI runs); `scripts/fuzz/run`
//! for long campaigns.

use floe_testkit::fuzz::config;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

const KEY: &str = "95a254501b7733239ed3cec4d56737977bd09ede881d8a234560e83e5525017add3b1dcc3eabfb85e12a4131b19c253b";

const CHAIN: &str = "[chain]\nendpoints = [\"http://127.0.0.1:9000\", \"https://rpc.example:443\"]\n\
wal_package = \"0x3a1\"\nfloe_package = \"0xf10e\"\nsystem = \"0x5\"\n";

fn node_doc() -> String {
    format!(
        "data_dir = \"/var/lib/floe/node\"\nlisten = \"127.0.0.1:9185\"\nbls_key_file = \"node.bls\"\n\
{CHAIN}committee_refresh_ms = 10000\n\
[discovery]\nscheme = \"http\"\nrefresh_ms = 30000\nmin_refresh_ms = 1000\n\
[[peer_overrides]]\npublic_key = \"{KEY}\"\nurl = \"http://127.0.0.1:9999\"\n\
[recovery]\nmax_concurrent_blobs = 4\nmax_attempts = 20\ninitial_backoff_ms = 500\n\
max_backoff_ms = 30000\npeer_timeout_ms = 30000\n\
[operator]\nkeystore = \"/k/sui.keystore\"\naddress = \"0xabc\"\ncap = \"0x12\"\n\
[limits]\nmax_body_bytes = 67108864\nrequest_timeout_ms = 30000\npending_metadata_entries = 1024\n\
pending_sliver_blobs = 1024\npending_ttl_ms = 300000\nmax_concurrent_uploads = 128\n\
max_concurrent_reads = 256\nmax_symbol_targets = 1000\n"
    )
}

fn indexer_doc() -> String {
    format!(
        "database_url = \"postgres://user@localhost/floe\"\ndata_dir = \"/var/lib/floe/indexer\"\n\
listen = \"127.0.0.1:8090\"\n{CHAIN}\
[api]\nmax_connections = 8\nrequest_timeout_ms = 10000\nmax_concurrent_requests = 64\n\
[pipeline]\nbatch_checkpoints = 200\nbatch_rows = 50000\nbatch_timeout_ms = 200\nbuffer = 64\n\
start_checkpoint = 0\n"
    )
}

fn coordinator_doc() -> String {
    format!(
        "listen = \"127.0.0.1:8095\"\npoll_ms = 1000\ndata_dir = \"/var/lib/floe/coordinator\"\n\
sync_grace_ms = 30000\n{CHAIN}\
[wallet]\nkeystore = \"/var/lib/floe/coordinator/sui.keystore\"\naddress = \"0xabc\"\n\
[renewal]\nenabled = true\nhorizon_epochs = 2\nextend_epochs = 5\nmax_per_round = 32\n\
max_tracked = 100000\n"
    )
}

fn client_doc() -> String {
    format!(
        "chain:\n  endpoints: [\"http://127.0.0.1:9000\"]\n  wal_package: \"0x3a1\"\n  floe_package: \"0xf10e\"\n\
wallet:\n  keystore: sui.keystore\n  address: \"0xabc\"\n\
discovery:\n  scheme: http\n  refresh_ms: 30000\n  min_refresh_ms: 1000\n\
node_overrides:\n  - public_key: \"{KEY}\"\n    url: \"http://127.0.0.1:9999\"\n\
faucet: \"http://127.0.0.1:9000/v2/gas\"\ndaemon: \"http://127.0.0.1:31415\"\n\
limits:\n  max_concurrent_requests: 64\n  request_timeout_ms: 30000\n  connect_timeout_ms: 5000\n\
\x20 max_sliver_bytes: 268435456\n  max_metadata_bytes: 67108864\n  read_hedge_ms: 1500\n"
    )
}

fn genesis_doc() -> String {
    include_str!("../../contracts/devnet-genesis.example.toml").to_owned()
}

/// Parses a config of each kind the way its binary does; `Err` is a
/// refusal with its message.
type Decoder = fn(&str) -> Result<(), String>;

fn node(text: &str) -> Result<(), String> {
    let config: floe_node::config::NodeConfig = toml::from_str(text).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    config.overrides().map_err(|e| e.to_string())?;
    Ok(())
}

fn indexer(text: &str) -> Result<(), String> {
    floe_indexer::IndexerConfig::from_toml(text).map(|_| ())
}

fn coordinator(text: &str) -> Result<(), String> {
    let config =
        floe_coordinator::config::CoordinatorConfig::from_toml(text).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())
}

fn client(text: &str) -> Result<(), String> {
    let config = floe_client::ClientConfig::from_yaml(text).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())
}

fn genesis(text: &str) -> Result<(), String> {
    let (rest, floe) =
        floe_contracts::genesis::split_genesis(text, false).map_err(|e| e.to_string())?;
    floe_ledger::Genesis::parse(&rest, false).map_err(|e| e.to_string())?;
    if let Some(floe) = floe {
        floe.parsed_nodes().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A kind of config file: its name, a valid document, its decoder.
type Kind = (&'static str, fn() -> String, Decoder);

const KINDS: &[Kind] = &[
    ("node", node_doc, node),
    ("indexer", indexer_doc, indexer),
    ("coordinator", coordinator_doc, coordinator),
    ("client", client_doc, client),
    ("genesis", genesis_doc, genesis),
];

/// Values that break assumptions: limits of integer types, signs,
/// fractions, other types, empty and very long text.
const HOSTILE_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967295",
    "65535",
    "65536",
    "1e400",
    "nan",
    "inf",
    "0.5",
    "true",
    "\"\"",
    "\"0x\"",
    "\"0xZZ\"",
    "\"http://\"",
    "\"ftp://x\"",
    "\"127.0.0.1:99999\"",
    "\"::\"",
    "\"\\u0000\"",
    "[]",
    "[[]]",
    "{}",
    "[\"\"]",
    "'''",
    "~",
    "null",
];

#[derive(Debug, Clone)]
enum Edit {
    /// The value of line `line` (after `=` or `:`) replaced.
    Value {
        line: usize,
        value: String,
    },
    RemoveLine(usize),
    DuplicateLine(usize),
    MoveLine {
        from: usize,
        to: usize,
    },
    /// A line of another kind's document inserted.
    Foreign {
        kind: usize,
        line: usize,
        at: usize,
    },
    Cut(usize),
    SetByte {
        at: usize,
        byte: u8,
    },
    Splice {
        at: usize,
        text: String,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let value = prop_oneof![
        4 => prop::sample::select(HOSTILE_VALUES).prop_map(str::to_owned),
        1 => (0usize..5000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        1 => (0usize..2000).prop_map(|n| format!("[{}]", vec!["1"; n].join(","))),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => "\\PC{0,30}".prop_map(|s| format!("{s:?}")),
    ];
    prop_oneof![
        5 => (any::<usize>(), value).prop_map(|(line, value)| Edit::Value { line, value }),
        1 => any::<usize>().prop_map(Edit::RemoveLine),
        1 => any::<usize>().prop_map(Edit::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(from, to)| Edit::MoveLine { from, to }),
        1 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(kind, line, at)| Edit::Foreign { kind, line, at }),
        1 => any::<usize>().prop_map(Edit::Cut),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::SetByte { at, byte }),
        1 => (any::<usize>(), "\\PC{0,40}").prop_map(|(at, text)| Edit::Splice { at, text }),
    ]
}

fn apply(doc: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = doc.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    match edit {
        Edit::Value { line, value } => {
            if let Some(l) = lines.get_mut(line % n)
                && let Some(at) = l.find(['=', ':'])
            {
                *l = format!("{}{} {value}", &l[..at], &l[at..=at]);
            }
        }
        Edit::RemoveLine(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
        }
        Edit::DuplicateLine(i) => {
            if let Some(l) = lines.get(i % n).cloned() {
                lines.insert(i % n, l);
            }
        }
        Edit::MoveLine { from, to } => {
            if !lines.is_empty() {
                let l = lines.remove(from % n);
                lines.insert(to % lines.len().max(1), l);
            }
        }
        Edit::Foreign { kind, line, at } => {
            let other = (KINDS[kind % KINDS.len()].1)();
            let other: Vec<&str> = other.lines().collect();
            let l = other[line % other.len()].to_owned();
            lines.insert(at % (lines.len() + 1), l);
        }
        Edit::Cut(_) | Edit::SetByte { .. } | Edit::Splice { .. } => {}
    }
    let mut text = lines.join("\n") + "\n";
    let mut bytes = std::mem::take(&mut text).into_bytes();
    match edit {
        Edit::Cut(at) => bytes.truncate(at % (bytes.len() + 1)),
        Edit::SetByte { at, byte } if !bytes.is_empty() => {
            let i = at % bytes.len();
            bytes[i] = *byte;
        }
        Edit::Splice { at, text } => {
            let i = at % (bytes.len() + 1);
            bytes.splice(i..i, text.bytes());
        }
        _ => {}
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check(kind: &str, decode: Decoder, text: &str) -> Result<(), TestCaseError> {
    let outcome = std::panic::catch_unwind(|| decode(text));
    match outcome {
        Err(_) => Err(TestCaseError::fail(format!(
            "{kind}: the decoder panicked on:\n{text}"
        ))),
        Ok(Err(message)) if message.trim().is_empty() => Err(TestCaseError::fail(format!(
            "{kind}: refused without saying why:\n{text}"
        ))),
        Ok(_) => Ok(()),
    }
}

#[test]
fn the_documented_configs_parse() {
    for (kind, doc, decode) in KINDS {
        decode(&doc()).unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
}

#[test]
fn mutated_configs_are_refused_or_accepted_never_a_panic() {
    let mut runner = TestRunner::new(config());
    let cases = (0..KINDS.len(), prop::collection::vec(edit(), 1..4));
    runner
        .run(&cases, |(kind, edits)| {
            let (name, doc, decode) = KINDS[kind];
            let text = edits.iter().fold(doc(), |text, e| apply(&text, e));
            check(name, decode, &text)
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn arbitrary_text_is_refused_or_accepted_never_a_panic() {
    let mut runner = TestRunner::new(config());
    runner
        .run(&(0..KINDS.len(), "\\PC{0,400}"), |(kind, text)| {
            let (name, _, decode) = KINDS[kind];
            check(name, decode, &text)
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
