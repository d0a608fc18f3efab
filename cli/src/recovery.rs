//! The recovery kit: making it, backing up, restoring on a new phone.

use crate::args::RecoveryCommand;
use crate::open::{open, open_existing, passphrase, read_file, write_file};
use crate::print::Output;
use crate::relay::CliHttp;
use crate::wait::wait_for;
use crate::{CliError, CliResult};
use redbook_ffi::RelayHttp;
use redbook_relay::HttpTransport;
use std::path::Path;
use std::sync::Arc;

pub(crate) fn run(command: RecoveryCommand, path: &Path, out: &Output) -> CliResult {
    let new_database = !path.exists();
    let book = match &command {
        // A new phone has no database yet: restoring makes it, as `init` would.
        RecoveryCommand::Restore { .. } if new_database => open(
            path,
            passphrase(
                "REDBOOK_PASSPHRASE",
                "A new passphrase for this phone",
                true,
            )?,
        )?,
        _ => open_existing(path)?,
    };
    let http = || -> Arc<dyn RelayHttp> { Arc::new(CliHttp(HttpTransport::default())) };
    match command {
        RecoveryCommand::Create { qr } => {
            let words = book.create_recovery_kit()?;
            if let Some(file) = &qr {
                let code = qrcode::QrCode::new(words.as_bytes())
                    .map_err(|e| CliError(format!("QR code: {e}")))?;
                let svg = code
                    .render::<qrcode::render::svg::Color>()
                    .min_dimensions(300, 300)
                    .build();
                write_file(
                    file,
                    captioned(&svg, &redbook_ffi::recovery_kit_caption()).as_bytes(),
                )?;
            }
            out.print(&serde_json::json!({ "words": words }), || {
                println!("Your recovery kit. Write these 12 words in the red book and keep it safe:");
                println!();
                println!("    {words}");
                println!();
                println!("Anyone with them can restore, on a new phone, every child's record this phone can invite others to, now and added later. They are not shown again.");
                if let Some(file) = &qr {
                    println!("The same words as a QR code: {}", file.display());
                }
            });
        }
        RecoveryCommand::Backup { out: file, relay } => match (file, relay) {
            (Some(file), _) => {
                let backup = book.recovery_backup()?;
                write_file(&file, &backup)?;
                println!(
                    "wrote {} ({} bytes, sealed with the kit's words)",
                    file.display(),
                    backup.len()
                );
            }
            (None, Some(url)) => {
                let size = wait_for(book.backup_to_relay(http(), url))?;
                println!("backed up to the relay ({size} bytes, sealed with the kit's words)");
            }
            (None, None) => unreachable!("clap requires one"),
        },
        RecoveryCommand::Restore {
            from,
            relay,
            keep_lost,
            device_name,
        } => {
            // Named first, so the kit adds this phone under its own name.
            let name = match device_name {
                Some(name) => Some(name),
                None if new_database => crate::database::ask_device_name()?,
                None => None,
            };
            if let Some(name) = name {
                book.set_device_name(name)?;
            }
            let words = zeroize::Zeroizing::new(passphrase(
                "REDBOOK_RECOVERY_WORDS",
                "The 12 words of the recovery kit",
                false,
            )?);
            let restored = match (from, relay) {
                (Some(file), _) => wait_for(book.restore_from_backup(
                    words.to_string(),
                    read_file(&file)?,
                    !keep_lost,
                ))?,
                (None, Some(url)) => {
                    wait_for(book.restore_from_relay(words.to_string(), http(), url, !keep_lost))?
                }
                (None, None) => unreachable!("clap requires one"),
            };
            out.print(&restored, || {
                println!(
                    "restored {} records; {} lost device(s) removed; the other members learn of this phone at their next sync",
                    restored.records.len(),
                    // One lost phone is removed from each record it was on.
                    restored
                        .removed
                        .iter()
                        .collect::<std::collections::HashSet<_>>()
                        .len()
                );
                for id in &restored.skipped {
                    println!("not restored: the kit no longer covers record {id}");
                }
                if let Some(words) = &restored.words {
                    println!();
                    println!("The words just typed in are used up: they restore nothing again.");
                    println!("This phone's new recovery kit. Write these 12 words in the red book in their place and keep it safe:");
                    println!();
                    println!("    {words}");
                    println!();
                    println!("They are not shown again.");
                }
            });
        }
    }
    Ok(())
}

/// The QR code's SVG with the core's caption under it, on white, one line of text each.
fn captioned(qr: &str, caption: &[String]) -> String {
    // The code's own SVG, nested as it is (its XML declaration dropped); its size is in
    // its root element's width and height.
    let inner = qr.trim_start_matches(|c| c != '>').trim_start_matches('>');
    let size = |name: &str| {
        inner
            .split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(300)
    };
    let (width, height) = (size("width"), size("height"));
    let line_height = 18;
    let total = height + line_height * caption.len() as u32 + 12;
    let mut svg = format!(
        "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{total}\" viewBox=\"0 0 {width} {total}\"><rect width=\"{width}\" height=\"{total}\" fill=\"#fff\"/>{inner}"
    );
    for (i, line) in caption.iter().enumerate() {
        let y = height + line_height * i as u32 + 4;
        let weight = if i == 0 { "bold" } else { "normal" };
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\" font-weight=\"{weight}\">{}</text>",
            width / 2,
            html_escape::encode_text(line)
        ));
    }
    svg.push_str("</svg>");
    svg
}
