//! `ivre-arp2db`: import the ARP packets of pcap captures into the passive purpose.

use clap::Parser;
use ivre_cli::passive::{arp_records, run_import, PassiveImportArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-arp2db",
    version,
    about = "Import the ARP requests and replies of pcap captures into the passive purpose",
    after_help = "Each ARP packet gives MAC_ADDRESS observations, as Zeek's passiverecon module \
logs them: ARP_REQUEST_SRC and ARP_REPLY_SRC (sender IP and MAC), ARP_REQUEST_DST (when the \
target MAC is known) and ARP_REPLY_DST (unless broadcast). ivre-macinfo lists them.

Captures: pcap (tcpdump -w), Ethernet or Linux cooked, compressed or not; pcapng must be \
converted first (editcap -F pcap in.pcapng out.pcap). Other packets are skipped.

Examples:
  tcpdump -i eth0 -w - arp | ivre-arp2db -s lan1 -
  ivre-arp2db -s lan1 capture-*.pcap.gz
  ivre-macinfo -s lan1 -r

Exit status: 0 success, 1 a damaged capture (named on stderr with its packet number), 2 a bad option."
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    import: PassiveImportArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-arp2db", || {
        run_import(&cli.common, &cli.import, arp_records)
    })
}
