//! Blob object management: `list-blobs`, `delete`, `extend`, `share`,
//! `fund-shared-blob`, `get-blob-attribute`, `set-blob-attribute`.

use anyhow::{Result, bail};
use clap::Args;
use floe_chain::sui_sdk_types::Address;
use floe_client::{BlobObject, Client};
use floe_core::BlobId;

use super::{ConfigArg, confirm, print_json, wal};
use crate::output::human_bytes;

/// Arguments of `floe list-blobs`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    config: ConfigArg,
}

fn describe(b: &BlobObject) -> String {
    format!(
        "{}  {}  {}  {}  until epoch {}  {}",
        b.blob_id,
        b.id,
        human_bytes(b.size),
        if b.deletable {
            "deletable"
        } else {
            "permanent"
        },
        b.end_epoch(),
        match b.certified_epoch {
            Some(e) => format!("certified in epoch {e}"),
            None => "not certified".to_owned(),
        }
    )
}

/// `floe list-blobs`.
pub async fn list(args: ListArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let blobs = client.list_blobs().await?;
    if json {
        return print_json(&blobs);
    }
    if blobs.is_empty() {
        println!("the wallet owns no blob objects");
    }
    for b in &blobs {
        println!("{}", describe(b));
    }
    Ok(())
}

/// Which objects a command acts on: one object id, or every owned object
/// of a blob id.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// A Blob object id.
    #[arg(long)]
    object_id: Option<Address>,
    /// Every owned Blob object of this blob id.
    #[arg(long, allow_hyphen_values = true)]
    blob_id: Option<BlobId>,
}

impl Target {
    /// The object ids; with a blob id, only its deletable objects when
    /// `deletable_only` (permanent ones cannot be deleted).
    async fn objects(&self, client: &Client, deletable_only: bool) -> Result<Vec<Address>> {
        if let Some(id) = self.object_id {
            return Ok(vec![id]);
        }
        let Some(blob_id) = &self.blob_id else {
            bail!("give --object-id or --blob-id");
        };
        let objects: Vec<Address> = client
            .owned_objects_of(blob_id)
            .await?
            .into_iter()
            .filter(|b| b.deletable || !deletable_only)
            .map(|b| b.id)
            .collect();
        if objects.is_empty() {
            bail!(
                "the wallet owns no {}Blob object of {blob_id}",
                if deletable_only { "deletable " } else { "" }
            );
        }
        Ok(objects)
    }
}

/// Arguments of `floe delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    target: Target,
    /// Delete without asking.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArg,
}

/// `floe delete`.
pub async fn delete(args: DeleteArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let objects = args.target.objects(&client, true).await?;
    confirm(
        &format!("delete {} blob object(s)?", objects.len()),
        args.yes,
    )?;
    let mut deleted = Vec::new();
    for object in objects {
        let blob = client.delete_blob(object).await?;
        if !json {
            println!("deleted {}", describe(&blob));
        }
        deleted.push(blob);
    }
    if json {
        print_json(&serde_json::json!({ "deleted": deleted }))?;
    }
    Ok(())
}

/// Arguments of `floe extend`.
#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// The Blob object to extend.
    #[arg(long)]
    object_id: Address,
    /// Epochs to add.
    #[arg(long)]
    epochs: u32,
    /// Pay without asking.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArg,
}

/// `floe extend`.
pub async fn extend(args: ExtendArgs, json: bool) -> Result<()> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let client = args.config.connect().await?;
    let cost = client.extend_cost(args.object_id, args.epochs).await?;
    confirm(
        &format!(
            "extend {} by {} epochs for {}?",
            args.object_id,
            args.epochs,
            wal(cost)
        ),
        args.yes,
    )?;
    let (blob, paid) = client.extend_blob(args.object_id, args.epochs).await?;
    if json {
        return print_json(&serde_json::json!({ "blobObject": blob, "cost": paid }));
    }
    println!("extended {}; paid {}", describe(&blob), wal(paid));
    Ok(())
}

/// Arguments of `floe share`.
#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The (certified) Blob object to share.
    #[arg(long)]
    object_id: Address,
    /// Initial funds in WAL (e.g. `1.5`).
    #[arg(long)]
    amount: Option<String>,
    /// Pay without asking.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArg,
}

/// `floe share`.
pub async fn share(args: ShareArgs, json: bool) -> Result<()> {
    let funds = args
        .amount
        .as_deref()
        .map(floe_core::price::parse_wal)
        .transpose()?;
    let client = args.config.connect().await?;
    if let Some(f) = funds {
        confirm(
            &format!("share {} funded with {}?", args.object_id, wal(f)),
            args.yes,
        )?;
    }
    let shared = client.share_blob(args.object_id, funds).await?;
    if json {
        return print_json(&serde_json::json!({ "sharedBlobObject": shared }));
    }
    println!("shared blob object {shared}");
    Ok(())
}

/// Arguments of `floe fund-shared-blob`.
#[derive(Debug, Args)]
pub struct FundArgs {
    /// The SharedBlob object.
    #[arg(long)]
    shared_blob_obj_id: Address,
    /// Amount in WAL (e.g. `0.5`).
    #[arg(long)]
    amount: String,
    /// Pay without asking.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArg,
}

/// `floe fund-shared-blob`.
pub async fn fund(args: FundArgs, json: bool) -> Result<()> {
    let amount = floe_core::price::parse_wal(&args.amount)?;
    let client = args.config.connect().await?;
    confirm(
        &format!("fund {} with {}?", args.shared_blob_obj_id, wal(amount)),
        args.yes,
    )?;
    client
        .fund_shared_blob(args.shared_blob_obj_id, amount)
        .await?;
    if json {
        return print_json(
            &serde_json::json!({ "funded": args.shared_blob_obj_id, "amount": amount }),
        );
    }
    println!("added {} to {}", wal(amount), args.shared_blob_obj_id);
    Ok(())
}

/// Arguments of `floe get-blob-attribute`.
#[derive(Debug, Args)]
pub struct GetAttributeArgs {
    /// The Blob object.
    object_id: Address,
    #[command(flatten)]
    config: ConfigArg,
}

/// `floe get-blob-attribute`.
pub async fn get_attribute(args: GetAttributeArgs, json: bool) -> Result<()> {
    let client = args.config.connect().await?;
    let attributes = client.blob_attributes(args.object_id).await?;
    if json {
        return print_json(&attributes);
    }
    if attributes.is_empty() {
        println!("no attributes");
    }
    for (k, v) in &attributes {
        println!("{k}: {v}");
    }
    Ok(())
}

/// Arguments of `floe set-blob-attribute`.
#[derive(Debug, Args)]
pub struct SetAttributeArgs {
    /// The Blob object.
    object_id: Address,
    /// `KEY=VALUE` pairs to set.
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    attrs: Vec<String>,
    /// Keys to remove.
    #[arg(long = "remove", value_name = "KEY")]
    remove: Vec<String>,
    #[command(flatten)]
    config: ConfigArg,
}

/// `floe set-blob-attribute`.
pub async fn set_attribute(args: SetAttributeArgs, json: bool) -> Result<()> {
    let mut pairs = Vec::new();
    for a in &args.attrs {
        let Some((k, v)) = a.split_once('=') else {
            bail!("{a:?} is not KEY=VALUE");
        };
        pairs.push((k.to_owned(), v.to_owned()));
    }
    if pairs.is_empty() && args.remove.is_empty() {
        bail!("nothing to do: give --attr KEY=VALUE or --remove KEY");
    }
    let client = args.config.connect().await?;
    client.set_blob_attributes(args.object_id, &pairs).await?;
    client
        .remove_blob_attributes(args.object_id, &args.remove)
        .await?;
    let attributes = client.blob_attributes(args.object_id).await?;
    if json {
        return print_json(&attributes);
    }
    for (k, v) in &attributes {
        println!("{k}: {v}");
    }
    Ok(())
}
