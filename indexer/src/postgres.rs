//! Choosing the database: a URL when given, otherwise a Postgres cluster
//! this process manages in its data directory.
//!
//! The managed cluster is the system's own `initdb`/`pg_ctl`/`postgres`
//! (found through `FLOE_PG_BINDIR`, `pg_config --bindir`, `PATH`, or
//! `/usr/lib/postgresql/*/bin`), listening only on a Unix socket inside the
//! cluster directory, with trust authentication for the local user. It is
//! stopped when [`ManagedPostgres`] is dropped. A cluster left running by a
//! killed indexer is reused; a stale `postmaster.pid` (its process gone) is
//! handled by Postgres itself on start.
//!
//! Postgres refuses to run as root. When this process is root (containers,
//! CI), the cluster is owned by and run as the `postgres` system user
//! (created by the Debian package), through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Errors starting or reaching Postgres.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error(
        "no database: give --database-url (or DATABASE_URL), or install PostgreSQL so that \
         `initdb` is found (Debian/Ubuntu: `apt-get install postgresql`; or set FLOE_PG_BINDIR \
         to the directory holding initdb and pg_ctl)"
    )]
    NotInstalled,
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("io on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "socket path {0} is longer than the 107 bytes Unix sockets allow; use a shorter data directory"
    )]
    SocketPathTooLong(PathBuf),
    #[error("running as root needs the `postgres` system user to own the cluster: {0}")]
    NoPostgresUser(String),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// Name of the database the indexer uses inside a managed cluster.
pub const DATABASE: &str = "floe";
/// Superuser name created by `initdb`.
pub const USER: &str = "floe";
/// Port number: only names the socket file, nothing listens on TCP.
pub const PORT: u16 = 5432;

/// A Postgres cluster in a directory, started by this process (or found
/// running there) and stopped on drop.
#[derive(Debug)]
pub struct ManagedPostgres {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    stopped: bool,
}

/// Finds the directory holding `initdb` and `pg_ctl`.
pub fn find_bindir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::var_os("FLOE_PG_BINDIR").map(PathBuf::from)
        && has(&d)
    {
        return Some(d);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has(&d) {
            return Some(d);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has(&d) {
                return Some(d);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has(d))
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PostgresError + '_ {
    move |source| PostgresError::Io {
        path: path.to_owned(),
        source,
    }
}

impl ManagedPostgres {
    /// Creates the cluster in `dir` if it is new, and starts it unless it
    /// is running already.
    pub fn start(dir: &Path) -> Result<Self, PostgresError> {
        let bin = find_bindir().ok_or(PostgresError::NotInstalled)?;
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let dir = dir.canonicalize().map_err(io(dir))?;
        let socket = dir.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > 107 {
            return Err(PostgresError::SocketPathTooLong(socket));
        }
        let run_as = if is_root() {
            Self::hand_to_postgres_user(&dir)?;
            Some("postgres".to_owned())
        } else {
            None
        };
        let pg = Self {
            dir,
            bin,
            run_as,
            stopped: false,
        };
        if !pg.dir.join("PG_VERSION").is_file() {
            tracing::info!(dir = %pg.dir.display(), "creating a Postgres cluster");
            pg.run(
                "initdb",
                &[
                    "-D",
                    &pg.dir.to_string_lossy(),
                    "-U",
                    USER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ],
            )?;
        }
        if pg
            .run("pg_ctl", &["status", "-D", &pg.dir.to_string_lossy()])
            .is_ok()
        {
            tracing::info!(dir = %pg.dir.display(), "reusing the Postgres already running in the data directory");
        } else {
            let options = format!(
                "-c listen_addresses='' -k {} -p {PORT} -c max_connections=100",
                pg.dir.display()
            );
            let log = pg.dir.join("postgres.log");
            pg.run(
                "pg_ctl",
                &[
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    &pg.dir.to_string_lossy(),
                    "-l",
                    &log.to_string_lossy(),
                    "-o",
                    &options,
                ],
            )?;
            tracing::info!(dir = %pg.dir.display(), "started Postgres");
        }
        Ok(pg)
    }

    /// Gives the cluster directory to the `postgres` user and makes sure it
    /// can reach it (its ancestors need the search bit).
    fn hand_to_postgres_user(dir: &Path) -> Result<(), PostgresError> {
        let id = |flag: &str| -> Result<u32, PostgresError> {
            let out = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .map_err(|e| PostgresError::NoPostgresUser(e.to_string()))?;
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .map_err(|_| PostgresError::NoPostgresUser("`id postgres` failed".into()))
        };
        let (uid, gid) = (id("-u")?, id("-g")?);
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io(dir))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        let mut ancestor = dir.parent();
        while let Some(a) = ancestor {
            let meta = std::fs::metadata(a).map_err(io(a))?;
            let mode = meta.permissions().mode();
            if mode & 0o001 == 0 {
                std::fs::set_permissions(a, std::fs::Permissions::from_mode(mode | 0o001))
                    .map_err(io(a))?;
            }
            ancestor = a.parent();
        }
        Ok(())
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<String, PostgresError> {
        let program = self.bin.join(tool);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        command.args(args).current_dir(&self.dir);
        let out = command.output().map_err(io(&program))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            return Err(PostgresError::Command {
                what: format!("{tool} {}", args.join(" ")),
                status: out.status.to_string(),
                output: text.trim().chars().take(2000).collect(),
            });
        }
        Ok(text)
    }

    /// The cluster directory (also the socket directory).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Connection options for `database` over the Unix socket.
    pub fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.dir)
            .port(PORT)
            .username(USER)
            .database(database)
    }

    /// A `postgres://` URL for `database` (for child processes); the
    /// socket directory goes in the `host` parameter.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{USER}@localhost:{PORT}/{database}?host={}",
            self.dir.display()
        )
    }

    /// Creates `database` if it does not exist.
    pub async fn create_database(&self, database: &str) -> Result<(), PostgresError> {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(self.options("postgres"))
            .await?;
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(database)
            .fetch_optional(&admin)
            .await?;
        if exists.is_none() {
            // Identifiers cannot be bound; the name is quoted.
            let quoted = database.replace('"', "\"\"");
            sqlx::query(&format!("CREATE DATABASE \"{quoted}\""))
                .execute(&admin)
                .await?;
        }
        admin.close().await;
        Ok(())
    }

    /// Stops the cluster now ("fast": open transactions roll back).
    pub fn stop(&mut self) -> Result<(), PostgresError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        self.run(
            "pg_ctl",
            &[
                "stop",
                "-w",
                "-m",
                "fast",
                "-D",
                &self.dir.to_string_lossy(),
            ],
        )?;
        Ok(())
    }

    /// Restarts the cluster (tests: Postgres going away under the indexer).
    pub fn restart(&self) -> Result<(), PostgresError> {
        // With a log file, so the new server does not hold our stdout pipe.
        let log = self.dir.join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                "restart",
                "-w",
                "-m",
                "fast",
                "-D",
                &self.dir.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
            ],
        )?;
        Ok(())
    }
}

impl Drop for ManagedPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "stopping the managed Postgres failed");
        }
    }
}

/// Connects a pool: to `url` when given, otherwise to a managed cluster in
/// `data_dir/postgres` (returned so the caller keeps it alive).
pub async fn connect(
    url: Option<&str>,
    data_dir: &Path,
    max_connections: u32,
) -> Result<(PgPool, Option<ManagedPostgres>), PostgresError> {
    let pool_options = PgPoolOptions::new()
        .max_connections(max_connections.max(2))
        .acquire_timeout(Duration::from_secs(10));
    if let Some(url) = url {
        let options: PgConnectOptions = url.parse()?;
        let pool = pool_options.connect_with(options).await?;
        return Ok((pool, None));
    }
    let managed = ManagedPostgres::start(&data_dir.join("postgres"))?;
    managed.create_database(DATABASE).await?;
    let pool = pool_options.connect_with(managed.options(DATABASE)).await?;
    Ok((pool, Some(managed)))
}
