//! `botflock check`: validates a flock offline and shows what it will do, as text or JSON.

use crate::cli::CheckArgs;
use crate::error::Error;
use crate::forecast::{self, AppForecast, BotForecast, Breach};
use crate::keys;
use crate::length::MAX_WEIGHTED_LENGTH;
use crate::secret::Secret;
use crate::sheep::Plan;
use crate::shepherd;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Serialize)]
struct Report {
    bots: Vec<BotForecast>,
    apps: Vec<AppForecast>,
    errors: Vec<Problem>,
}

#[derive(Serialize)]
struct Problem {
    file: String,
    message: String,
}

/// Prints the forecast; `Ok(false)` (exit 1) when any key file has an error.
pub fn run(args: CheckArgs, defaults: Plan) -> Result<bool, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let flock = keys::load_folder(&args.keys_dir, &cwd)?;
    let bots: Vec<(Secret, BotForecast)> = flock
        .bots
        .iter()
        .map(|bot| {
            let plan = shepherd::plan(&defaults, bot);
            let key_file = bot.key_file.display().to_string();
            let forecast = forecast::bot(&bot.name, &key_file, bot.poem.lines(), &plan);
            (bot.credentials.consumer_key.clone(), forecast)
        })
        .collect();
    let mut by_app: BTreeMap<String, Vec<&BotForecast>> = BTreeMap::new();
    for (app, bot) in &bots {
        by_app
            .entry(app.expose().to_string())
            .or_default()
            .push(bot);
    }
    let report = Report {
        apps: by_app.values().map(|bots| forecast::app(bots)).collect(),
        bots: bots.into_iter().map(|(_, bot)| bot).collect(),
        errors: flock
            .problems
            .iter()
            .map(|problem| Problem {
                file: problem.path().display().to_string(),
                message: problem.to_string(),
            })
            .collect(),
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => log::error!("cannot write the report as JSON: {error}"),
        }
    } else {
        print!("{}", text(&report));
    }
    Ok(report.errors.is_empty())
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    for bot in &report.bots {
        let _ = writeln!(out, "{} ({})", bot.name, bot.key_file);
        let _ = writeln!(
            out,
            "  {} lines, {} posts a round, longest line {}/{MAX_WEIGHTED_LENGTH}; a round every {}",
            bot.lines.len(),
            bot.posts_per_round,
            bot.longest_weighted_length,
            forecast::describe(bot.round_seconds)
        );
        let _ = writeln!(
            out,
            "  {} posts a day, ${:.2} a day at pay-per-use prices",
            number(bot.posts_per_day),
            bot.cost_per_day_usd
        );
        let _ = writeln!(out, "  {}", breaches(&bot.breaks));
        for (i, line) in bot.lines.iter().enumerate() {
            let note = match line.posts {
                0 => "  (over the limit: skipped)".to_string(),
                1 => String::new(),
                n => format!("  (a thread of {n} posts)"),
            };
            let _ = writeln!(
                out,
                "  {:>4}  [{:>3}]  {}{note}",
                i + 1,
                line.weighted_length,
                line.text
            );
        }
        out.push('\n');
    }
    for app in &report.apps {
        let _ = writeln!(
            out,
            "app of {}: {} posts a day, ${:.2} a day; {}",
            app.bots.join(", "),
            number(app.posts_per_day),
            app.cost_per_day_usd,
            breaches(&app.breaks)
        );
    }
    if !report.errors.is_empty() {
        out.push_str("\nerrors:\n");
        for problem in &report.errors {
            let _ = writeln!(out, "  {}", problem.message);
        }
    }
    out
}

fn breaches(breaks: &[Breach]) -> String {
    if breaks.is_empty() {
        return "within every tier's limits".to_string();
    }
    let each: Vec<String> = breaks
        .iter()
        .map(|b| {
            format!(
                "{} ({} {}: {} > {})",
                b.tier,
                "posts",
                b.limit,
                number(b.expected),
                b.allowed
            )
        })
        .collect();
    format!("would break: {}", each.join(", "))
}

fn number(value: f64) -> String {
    if !value.is_finite() {
        "unbounded".to_string()
    } else if value.fract().abs() < 0.05 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}
