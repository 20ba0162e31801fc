//! `sqlx::migrate!` embeds `migrations/` at compile time; without this,
//! Cargo does not know a new migration file must rebuild the crate (the
//! build script sqlx's documentation recommends).

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
