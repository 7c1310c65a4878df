//! Which flow input a file is, from its first bytes (after decompression),
//! for `ivre-flow2db` without `-t` (spec 1.6.2). Binary captures go through
//! their tool (`nfdump`, `racluster`); text outputs are read directly.

/// A flow input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowFormat {
    /// An nfcapd capture file (read through `nfdump`).
    NfcapdFile,
    /// An Argus capture file (read through `racluster`).
    ArgusFile,
    /// nfdump text output ([`super::nfdump::NfdumpReader`]).
    NfdumpText,
    /// Argus CSV output ([`super::argus::ArgusReader`]).
    ArgusText,
    /// iptables LOG lines ([`super::iptables::IptablesReader`]).
    Iptables,
    /// A Zeek log ([`super::zeek::ZeekFlowReader`]).
    Zeek,
}

impl FlowFormat {
    /// The name `-t` takes.
    pub fn name(self) -> &'static str {
        match self {
            FlowFormat::NfcapdFile => "netflow",
            FlowFormat::ArgusFile => "argus",
            FlowFormat::NfdumpText => "nfdump-text",
            FlowFormat::ArgusText => "argus-text",
            FlowFormat::Iptables => "iptables",
            FlowFormat::Zeek => "zeek",
        }
    }

    /// Every format, in the order of [`FlowFormat::name`]'s list.
    pub const ALL: [FlowFormat; 6] = [
        FlowFormat::NfcapdFile,
        FlowFormat::ArgusFile,
        FlowFormat::NfdumpText,
        FlowFormat::ArgusText,
        FlowFormat::Iptables,
        FlowFormat::Zeek,
    ];

    /// A format by its `-t` name.
    pub fn from_name(name: &str) -> Option<FlowFormat> {
        FlowFormat::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The format of an input from its first bytes (a few kilobytes are
/// enough); `None` when unknown. nfcapd files start with `0C A5` and a
/// layout version (1 for nfdump 1.6, 2 for 1.7), Argus files with
/// `83 10 00 20`; text is recognised by its first meaningful line.
pub fn detect(head: &[u8]) -> Option<FlowFormat> {
    match head {
        [0x0c, 0xa5, 1 | 2, 0, ..] => return Some(FlowFormat::NfcapdFile),
        [0x83, 0x10, 0x00, 0x20, ..] => return Some(FlowFormat::ArgusFile),
        _ => {}
    }
    let text = String::from_utf8_lossy(head);
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("#separator") || line.starts_with("#fields") || line.starts_with('{') {
            return Some(FlowFormat::Zeek);
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with("ts,te,") {
            return Some(FlowFormat::NfdumpText);
        }
        if line.contains("SrcAddr") || line.starts_with("StartTime,") {
            return Some(FlowFormat::ArgusText);
        }
        if line.contains("IN=") && line.contains("SRC=") {
            return Some(FlowFormat::Iptables);
        }
        let fields = line.split(',').count();
        let dated = line.len() > 10
            && line.as_bytes()[..10].iter().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    *b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if dated && (fields == 12 || fields >= 15) {
            return Some(FlowFormat::NfdumpText);
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            detect(b"\x0c\xa5\x01\x00rest"),
            Some(FlowFormat::NfcapdFile)
        );
        assert_eq!(
            detect(b"\x0c\xa5\x02\x00rest"),
            Some(FlowFormat::NfcapdFile)
        );
        assert_eq!(detect(b"\x83\x10\x00\x20"), Some(FlowFormat::ArgusFile));
        assert_eq!(
            detect(b"#separator \\x09\n#path\tconn\n"),
            Some(FlowFormat::Zeek)
        );
        assert_eq!(detect(b"{\"ts\":1}\n"), Some(FlowFormat::Zeek));
        assert_eq!(detect(b"ts,te,td,sa\n"), Some(FlowFormat::NfdumpText));
        assert_eq!(
            detect(b"2015-09-18 14:15:19.987,2015-09-18 14:15:19.987,UDP,1.1.1.1,2.2.2.2,53,5,0,1,0,52,....\n"),
            Some(FlowFormat::NfdumpText)
        );
        assert_eq!(
            detect(b"StartTime,LastTime,SrcAddr\n"),
            Some(FlowFormat::ArgusText)
        );
        assert_eq!(
            detect(b"Proto,Dir,SrcAddr,Sport\n"),
            Some(FlowFormat::ArgusText)
        );
        assert_eq!(
            detect(b"# IVRE SAMPLES\n#\nFeb  9 23:52:49 pi02 kernel: IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8\n"),
            Some(FlowFormat::Iptables)
        );
        assert_eq!(detect(b"hello\n"), None);
        assert_eq!(detect(b""), None);
        for f in FlowFormat::ALL {
            assert_eq!(FlowFormat::from_name(f.name()), Some(f));
        }
    }
}
