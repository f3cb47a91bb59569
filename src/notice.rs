//! `botflock post`: one post now, for notices from cron or systemd ("going down", "back up"),
//! optionally stamped with the date and time so X does not refuse a repeat.

use crate::cli::PostArgs;
use crate::client::{ApiBase, Client};
use crate::error::Error;
use crate::{keys, length, thread};

/// Posts and prints the post's id; `Ok(false)` (exit 1) with X's reason when it was refused.
pub fn run(args: PostArgs) -> Result<bool, Error> {
    let account = keys::read_account(&args.key_file).map_err(Error::Key)?;
    if keys::loose_permissions(&args.key_file) {
        log::warn!(
            "key file {} can be read by others; it holds secrets: chmod 600 {}",
            args.key_file.display(),
            args.key_file.display()
        );
    }
    let text = if args.stamp {
        thread::stamp(&args.text, &jiff::Zoned::now())
    } else {
        args.text
    };
    if let Err(problem) = length::check(&text) {
        log::error!("{}: not posted: {problem}", account.screen_name);
        return Ok(false);
    }
    let base = ApiBase::parse(&args.api_base)?;
    let client = Client::new(&base, args.timeout);
    match client.post(&account.credentials, &text, None) {
        Ok(posted) => {
            println!("{}", posted.id);
            log::info!(
                "{}: posted (id {}): {text:?}",
                account.screen_name,
                posted.id
            );
            Ok(true)
        }
        Err(error) => {
            log::error!("{}: X did not take the post: {error}", account.screen_name);
            Ok(false)
        }
    }
}
