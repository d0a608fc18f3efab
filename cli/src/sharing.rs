//! This device, members, invitations and sync.

use redbook_core::model::*;
use redbook_core::DeviceProfile;
use std::path::Path;

use crate::args::*;
use crate::open::*;
use crate::print::*;
use crate::{CliError, CliResult};

pub(crate) fn run(command: Command, path: &Path, out: &Output) -> CliResult {
    match command {
        Command::Device(DeviceCommand::Show) => {
            let book = open_existing(path)?;
            let author = book.author()?;
            let card = book.device_card()?;
            let info = serde_json::json!({
                "device_id": author.device_id,
                "role": author.role,
                "display_name": author.display_name,
                "organisation": author.organisation,
                "card": card,
            });
            out.print(&info, || {
                println!(
                    "device {} ({}, {})",
                    author.device_id,
                    author.display_name,
                    Role::label(author.role)
                );
                println!("card (give this to a member who will invite this device):\n{card}");
            });
        }
        Command::Device(DeviceCommand::Attest { file }) => {
            let book = open_existing(path)?;
            book.set_attestation(read_file(&file)?)?;
            println!("kept; this device's card now carries the attestation");
        }
        Command::Device(DeviceCommand::Set {
            role,
            name,
            organisation,
        }) => {
            let book = open_existing(path)?;
            let current = book.author()?;
            // What is not given stays as it is; a new role takes only the organisation given.
            let organisation = match (&role, organisation) {
                (_, Some(organisation)) => Some(organisation),
                (None, None) => current.organisation,
                (Some(_), None) => None,
            };
            book.set_device_profile(DeviceProfile {
                role: match role {
                    Some(role) => role.parse()?,
                    None => current.role,
                },
                display_name: name.unwrap_or(current.display_name),
                organisation,
            })?;
        }
        Command::Share {
            child,
            to,
            access,
            out: file,
        } => {
            let access: Access = access.parse()?;
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let invitation = book.share(id, to, access)?;
            write_file(&file, &invitation)?;
            println!(
                "wrote {} ({} bytes): give it to the other device for `redbook accept`",
                file.display(),
                invitation.len()
            );
        }
        Command::Accept { file } => {
            let book = open_existing(path)?;
            let id = book.accept(read_file(&file)?)?;
            println!("{id}");
        }
        Command::Members { child } => {
            let book = open_existing(path)?;
            let members = book.members(find_child(&book, &child)?)?;
            out.print(&members.iter().map(|m| serde_json::json!({
                "device_id": m.device_id, "access": m.access, "role": m.role, "display_name": m.display_name,
                "organisation": m.organisation, "added_by": m.added_by, "added_at": m.added_at,
                "removed_by": m.removed_by, "confirmed_by": m.confirmed_by, "standing": m.standing,
            })).collect::<Vec<_>>(), || {
                for m in &members {
                    println!("{}  {}", m.device_id, m.standing);
                }
            });
        }
        Command::RemoveMember { child, device } => {
            let book = open_existing(path)?;
            book.remove_member(find_child(&book, &child)?, device)?;
            println!("removed; the record key was replaced and the other members receive it at their next sync");
        }
        Command::Sync {
            child,
            relay: Some(url),
            ..
        } => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let report = crate::relay::exchange(&book, &id, &url)?;
            out.print(&report, || {
                if report.removed {
                    if let Ok(Some(notice)) = book.removal_notice(id.clone()) {
                        println!("{notice}");
                    }
                    return;
                }
                println!(
                    "fetched {} ({} refused), posted {}; {} ({}, {} bytes sent, {} received){}",
                    redbook_core::view::count(
                        report.received + report.refused,
                        "message",
                        "messages"
                    ),
                    report.refused,
                    report.posted,
                    if report.changed {
                        "the record has news from other devices"
                    } else {
                        "nothing new here"
                    },
                    redbook_core::view::count(report.round_trips as i64, "request", "requests"),
                    report.bytes_sent,
                    report.bytes_received,
                    if report.more_waiting {
                        "; more waits: run it again"
                    } else {
                        ""
                    },
                )
            });
        }
        Command::Sync {
            child,
            with: Some(with),
            ..
        } => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            if !with.exists() {
                return Err(CliError(format!("no database at {}", with.display())));
            }
            let peer = open(
                &with,
                passphrase(
                    "REDBOOK_PEER_PASSPHRASE",
                    "The other database's passphrase",
                    false,
                )?,
            )?;
            let report = sync_pair(&book, &peer, &id)?;
            out.print(&report, || {
                println!(
                    "in sync after {}: {}, {} bytes",
                    redbook_core::view::count(
                        report.round_trips as i64,
                        "round trip",
                        "round trips"
                    ),
                    redbook_core::view::count(report.messages as i64, "message", "messages"),
                    report.bytes
                )
            });
        }
        Command::Bundle(BundleCommand::Export {
            child,
            for_device,
            out: file,
        }) => {
            let book = open_existing(path)?;
            let bundle = book.export_bundle(find_child(&book, &child)?, for_device)?;
            write_file(&file, &bundle)?;
            println!("wrote {} ({} bytes)", file.display(), bundle.len());
        }
        Command::Bundle(BundleCommand::Import { file }) => {
            let book = open_existing(path)?;
            let received = book.receive(read_file(&file)?)?;
            out.print(&received, || {
                println!(
                    "{}",
                    if received.changed {
                        "imported: the record has new entries"
                    } else {
                        "nothing new in that bundle"
                    }
                )
            });
        }
        _ => unreachable!("main sends each module only its own commands"),
    }
    Ok(())
}
