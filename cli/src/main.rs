//! `floe`: one binary for every floe role: the devnet, the ledger, storage
//! nodes, the indexer, the coordinator and every client command.

mod commands;
mod keyfile;
mod output;
mod service;

use clap::{Parser, Subcommand};

/// jemalloc, not the system allocator: a node and a client move slivers of
/// several MiB each, and glibc serves every allocation that large with a
/// fresh `mmap` (page faults and zeroing on first touch, `munmap` on free).
/// A profile of four nodes taking a 100 MiB blob spent about a sixth of
/// their CPU time there; jemalloc keeps freed extents for reuse, and
/// `.cargo/config.toml` compiles in how long it keeps their pages.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// floe: a Walrus-compatible decentralized blob store.
#[derive(Debug, Parser)]
#[command(name = "floe", version, about, long_about = None)]
struct Cli {
    /// Print machine-readable JSON instead of human-friendly text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute the Walrus-compatible blob id of a file (or `-` for stdin)
    /// without storing it.
    BlobId(commands::blob_id::BlobIdArgs),
    /// The keeper that drives epoch changes (committee selection and
    /// rotation) over the chain.
    Coordinator(commands::coordinator::CoordinatorArgs),
    /// A whole local network in one command: ledger, storage nodes (and
    /// more as they land), funded wallet, configs.
    Devnet(commands::devnet::DevnetArgs),
    /// The web explorer: HTML pages over the indexer's API.
    Explorer(commands::explorer::ExplorerArgs),
    /// Governance: parameter proposals, upgrade and slashing votes.
    Governance(commands::governance::GovernanceArgs),
    /// The subsidies pool: fund it, see its balance and rates.
    Subsidies(commands::subsidies::SubsidiesArgs),
    /// The Postgres indexer and explorer API.
    Indexer(commands::indexer::IndexerArgs),
    /// The embedded development chain (Sui gRPC v2 API).
    Ledger(commands::ledger::LedgerArgs),
    /// A storage node (REST API, durable sliver store).
    Node(commands::node::NodeArgs),
    /// What each epoch paid (bucket, burn, each node's reward and
    /// commission, carry-over) as the coordinator reconciled it.
    Payments(commands::payments::PaymentsArgs),
    #[command(flatten)]
    Client(commands::client::ClientCommand),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::BlobId(args) => commands::blob_id::run(args, cli.json),
        Command::Coordinator(args) => commands::coordinator::run(args, cli.json),
        Command::Devnet(args) => commands::devnet::run(args, cli.json),
        Command::Explorer(args) => commands::explorer::run(args, cli.json),
        Command::Governance(args) => commands::governance::run(args, cli.json),
        Command::Subsidies(args) => commands::subsidies::run(args, cli.json),
        Command::Indexer(args) => commands::indexer::run(args, cli.json),
        Command::Ledger(args) => commands::ledger::run(args, cli.json),
        Command::Node(args) => commands::node::run(args, cli.json),
        Command::Payments(args) => commands::payments::run(args, cli.json),
        Command::Client(command) => commands::client::run(command, cli.json),
    };
    if let Err(err) = result {
        output::print_error(&err, cli.json);
        std::process::exit(1);
    }
}
