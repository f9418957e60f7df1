//! `vault`: keep `.ionapi` credentials encrypted at rest.
//!
//! ```sh
//! export INFOR_ION_VAULT_KEY=$(cargo run -q -p examples --bin vault -- new-key)
//! cargo run -p examples --bin vault -- check ACME_PRD.ionapi
//! cargo run -p examples --bin vault -- --vault ion.vault import ACME_PRD.ionapi
//! cargo run -p examples --bin vault -- --vault ion.vault list
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use infor_ion_client::IonApiFile;
use infor_ion_client::vault::{DEFAULT_KEY_ENV, Vault, VaultKey};
use secrecy::ExposeSecret;

/// Import, list, remove and re-key ION credentials in an encrypted vault file.
///
/// The vault key is 32 random bytes in base64, read from an environment variable (default
/// INFOR_ION_VAULT_KEY) or a key file; it is never written into the vault.
#[derive(Parser)]
#[command(name = "vault", version)]
struct Cli {
    /// The vault file (created by `import` if missing).
    #[arg(
        long,
        env = "INFOR_ION_VAULT",
        default_value = "ion.vault",
        global = true
    )]
    vault: PathBuf,
    /// Read the vault key from this file (base64 text or 32 raw bytes) instead of the
    /// environment.
    #[arg(long, global = true)]
    key_file: Option<PathBuf>,
    /// The environment variable holding the vault key in base64.
    #[arg(long, default_value = DEFAULT_KEY_ENV, global = true)]
    key_env: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a new random vault key (base64) to standard output.
    NewKey,
    /// Validate an .ionapi file and show what the SDK derives from it (secrets redacted).
    Check {
        /// The .ionapi file.
        file: PathBuf,
    },
    /// Encrypt an .ionapi file into the vault under its tenant id (replacing an older entry).
    Import {
        /// The .ionapi file.
        file: PathBuf,
    },
    /// List the tenants in the vault.
    List,
    /// Show one tenant's entry (secrets redacted).
    Show {
        /// The tenant id (`ti`).
        tenant: String,
    },
    /// Remove a tenant's entry.
    Remove {
        /// The tenant id (`ti`).
        tenant: String,
    },
    /// Re-encrypt every entry under a new key, read from `--new-key-file` or `--new-key-env`.
    RotateKey {
        /// File holding the new key.
        #[arg(long, conflicts_with = "new_key_env")]
        new_key_file: Option<PathBuf>,
        /// Environment variable holding the new key in base64.
        #[arg(long)]
        new_key_env: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    examples::logging::init("warn");
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let key = || -> Result<VaultKey, String> {
        match &cli.key_file {
            Some(path) => VaultKey::from_file(path),
            None => VaultKey::from_env(&cli.key_env),
        }
        .map_err(|e| e.to_string())
    };
    match &cli.command {
        Command::NewKey => {
            println!("{}", VaultKey::generate().to_base64().expose_secret());
        }
        Command::Check { file } => {
            let file = IonApiFile::from_path(file).map_err(|e| sdk_common::report::chain(&e))?;
            describe(&file);
        }
        Command::Import { file } => {
            let parsed = IonApiFile::from_path(file).map_err(|e| sdk_common::report::chain(&e))?;
            let mut vault = Vault::open_or_create(&cli.vault, key()?)
                .map_err(|e| sdk_common::report::chain(&e))?;
            vault
                .store(&parsed)
                .map_err(|e| sdk_common::report::chain(&e))?;
            println!(
                "imported tenant {} into {}; you can now delete {}",
                parsed.tenant(),
                cli.vault.display(),
                file.display()
            );
        }
        Command::List => {
            let vault =
                Vault::open(&cli.vault, key()?).map_err(|e| sdk_common::report::chain(&e))?;
            for tenant in vault.tenants() {
                println!("{tenant}");
            }
        }
        Command::Show { tenant } => {
            let vault =
                Vault::open(&cli.vault, key()?).map_err(|e| sdk_common::report::chain(&e))?;
            describe(
                &vault
                    .load(tenant)
                    .map_err(|e| sdk_common::report::chain(&e))?,
            );
        }
        Command::Remove { tenant } => {
            let mut vault =
                Vault::open(&cli.vault, key()?).map_err(|e| sdk_common::report::chain(&e))?;
            if !vault
                .remove(tenant)
                .map_err(|e| sdk_common::report::chain(&e))?
            {
                return Err(format!("the vault has no entry for tenant `{tenant}`"));
            }
            println!("removed tenant {tenant}");
        }
        Command::RotateKey {
            new_key_file,
            new_key_env,
        } => {
            let new_key = match (new_key_file, new_key_env) {
                (Some(path), _) => VaultKey::from_file(path),
                (None, Some(var)) => VaultKey::from_env(var),
                (None, None) => {
                    return Err("give the new key with --new-key-file or --new-key-env".into());
                }
            }
            .map_err(|e| sdk_common::report::chain(&e))?;
            let mut vault =
                Vault::open(&cli.vault, key()?).map_err(|e| sdk_common::report::chain(&e))?;
            vault
                .rotate_key(new_key)
                .map_err(|e| sdk_common::report::chain(&e))?;
            println!(
                "re-encrypted {} tenant(s) under the new key",
                vault.tenants().len()
            );
        }
    }
    Ok(())
}

fn describe(file: &IonApiFile) {
    println!("tenant:          {}", file.tenant());
    println!("client id:       {}", file.client_id());
    println!("token endpoint:  {}", file.token_url());
    match file.revoke_url() {
        Some(url) => println!("revoke endpoint: {url}"),
        None => println!("revoke endpoint: (none: the file has no `or`)"),
    }
    println!("API base URL:    {}", file.api_base_url());
    match file.service_account() {
        Ok(_) => println!("service account: present (password grant usable)"),
        Err(e) => println!("service account: MISSING: {e}"),
    }
}
