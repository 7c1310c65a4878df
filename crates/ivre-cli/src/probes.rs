//! Nmap's `nmap-service-probes`, loaded once per process on first need, for
//! the tools that identify services behind raw banners.

use ivre_model::probes::ServiceProbes;
use std::sync::OnceLock;

/// The installed service probes; `None` (said once, as a warning) when
/// Nmap's data files are not installed.
pub fn service_probes() -> Option<&'static ServiceProbes> {
    static PROBES: OnceLock<Option<ServiceProbes>> = OnceLock::new();
    PROBES
        .get_or_init(|| match ServiceProbes::find_default() {
            Some(path) => match ServiceProbes::load(&path) {
                Ok(probes) => Some(probes),
                Err(e) => {
                    log::warn!("{}: {e}; banners are not identified", path.display());
                    None
                }
            },
            None => {
                log::warn!(
                    "nmap-service-probes not found ($NMAPDIR, /usr/share/nmap, /usr/local/share/nmap): \
                     banners are not identified (install nmap to fix this)"
                );
                None
            }
        })
        .as_ref()
}
