//! `botflock keys new`: makes a bot's key file with X's PIN-based sign-in. The app's keys sign a
//! request token; a person signs in as the bot on X's authorize page and is shown a PIN; the PIN
//! buys the bot's access token, written with the app's keys in the flock's format, mode 0600.

use crate::cli::NewKeyArgs;
use crate::client::{ApiBase, Client, Granted, PostError};
use crate::error::Error;
use crate::poem::Poem;
use serde::Deserialize;
use std::fmt;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The app's keys, as an app file holds them (the key file's names, or X's portal's).
#[derive(Deserialize)]
struct AppFile {
    #[serde(alias = "consumer_key", alias = "api_key")]
    consumer_token: String,
    #[serde(alias = "consumer_secret", alias = "api_key_secret")]
    consumer_token_secret: String,
}

#[derive(Debug)]
pub enum EnrollError {
    AppFile {
        path: PathBuf,
        error: String,
    },
    Poem(crate::poem::PoemError),
    Exists {
        path: PathBuf,
    },
    X {
        step: &'static str,
        error: Box<PostError>,
    },
    NoPin,
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for EnrollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnrollError::AppFile { path, error } => write!(
                f,
                "{}: {error}: an app file holds {{\"consumer_token\": \"...\", \"consumer_token_secret\": \"...\"}}",
                path.display()
            ),
            EnrollError::Poem(error) => write!(f, "{error}"),
            EnrollError::Exists { path } => write!(
                f,
                "{} already exists: botflock never overwrites a key file; pass another --out or remove it",
                path.display()
            ),
            EnrollError::X { step, error } => write!(f, "X refused the {step} step: {error}"),
            EnrollError::NoPin => f.write_str("no PIN given: run again and type the PIN X shows"),
            EnrollError::Write { path, error } => {
                write!(f, "cannot write key file {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for EnrollError {}

pub fn run(args: NewKeyArgs) -> Result<bool, Error> {
    enroll(args).map(|path| {
        println!("wrote {}", path.display());
        true
    })
}

fn enroll(args: NewKeyArgs) -> Result<PathBuf, Error> {
    let app = read_app(&args.app)?;
    Poem::load(&args.poem).map_err(|error| Error::Enroll(EnrollError::Poem(error)))?;
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(Error::Enroll(EnrollError::Exists { path: out.clone() }));
    }
    let base = ApiBase::parse(&args.api_base)?;
    let client = Client::new(&base, Duration::from_secs(30));
    let x = |step| {
        move |error| {
            Error::Enroll(EnrollError::X {
                step,
                error: Box::new(error),
            })
        }
    };
    let request = client
        .request_token(&app.consumer_token, &app.consumer_token_secret)
        .map_err(x("request token"))?;
    println!("Sign in to X as the bot, open this page and allow the app:");
    println!("{}", client.authorize_url(request.token.expose()));
    eprint!("Then type the PIN X shows: ");
    let _ = std::io::stderr().flush();
    let mut pin = String::new();
    let _ = std::io::stdin().lock().read_line(&mut pin);
    let pin = pin.trim();
    if pin.is_empty() {
        return Err(Error::Enroll(EnrollError::NoPin));
    }
    let access = client
        .access_token(
            &app.consumer_token,
            &app.consumer_token_secret,
            &request,
            pin,
        )
        .map_err(x("access token"))?;
    let screen_name = access.get("screen_name").unwrap_or("bot").to_string();
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("keys").join(format!("{screen_name}.json")));
    write_key_file(&out, &screen_name, &app, &access, &args.poem)?;
    Ok(out)
}

fn read_app(path: &Path) -> Result<AppFile, Error> {
    let bad = |error: String| {
        Error::Enroll(EnrollError::AppFile {
            path: path.to_path_buf(),
            error,
        })
    };
    let text = std::fs::read_to_string(path).map_err(|error| bad(error.to_string()))?;
    serde_json::from_str(&text).map_err(|error| bad(error.to_string()))
}

fn write_key_file(
    path: &Path,
    screen_name: &str,
    app: &AppFile,
    access: &Granted,
    poem: &Path,
) -> Result<(), Error> {
    let key = serde_json::json!({
        "screen_name": screen_name,
        "user_id": access.get("user_id"),
        "consumer_token": app.consumer_token,
        "consumer_token_secret": app.consumer_token_secret,
        "oauth_token": access.token.expose(),
        "oauth_token_secret": access.secret.expose(),
        "poem_file": poem,
    });
    let failed = |error: std::io::Error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Enroll(EnrollError::Exists {
                path: path.to_path_buf(),
            })
        } else {
            Error::Enroll(EnrollError::Write {
                path: path.to_path_buf(),
                error,
            })
        }
    };
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(failed)?;
    }
    let mut options = std::fs::OpenOptions::new();
    // Never overwrite: create_new fails if the file appeared since the check above.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed)?;
    let text = serde_json::to_string_pretty(&key).unwrap_or_default() + "\n";
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}
