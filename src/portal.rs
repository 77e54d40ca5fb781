//! The desktop's own file chooser, through the XDG desktop portal
//! (`org.freedesktop.portal.FileChooser` on the session bus), and its
//! light or dark preference (`org.freedesktop.portal.Settings`), with zbus,
//! which the keychain already brings. Blocking: call it from a job thread.
//! Where there is no bus or no portal, it says so at once, and the caller
//! falls back to the Downloads folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use zbus::blocking::{Connection, Proxy};
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

/// What the file chooser answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Chosen {
    Path(PathBuf),
    Cancelled,
}

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("no D-Bus session bus: {0}")]
    NoBus(String),
    #[error("no desktop portal answered: {0}")]
    NoPortal(String),
    #[error("the file chooser failed: {0}")]
    Failed(String),
}

/// Asks where to save a file named `name`, starting in `folder`. `bus` is a
/// D-Bus address (tests); none means the session bus.
pub fn save_file(
    bus: Option<&str>,
    title: &str,
    name: &str,
    folder: Option<&Path>,
) -> Result<Chosen, PortalError> {
    let conn = connect(bus)?;
    let no_portal = |e: zbus::Error| PortalError::NoPortal(e.to_string());
    let chooser = desktop(&conn, "org.freedesktop.portal.FileChooser")?;
    // The answer comes as a signal on a request object whose path the
    // caller can know beforehand: listen there before asking.
    let token = format!("pipit{}", std::process::id() ^ nanos());
    let sender = conn
        .unique_name()
        .map(|n| n.trim_start_matches(':').replace('.', "_"))
        .unwrap_or_default();
    let request_path = format!("/org/freedesktop/portal/desktop/request/{sender}/{token}");
    let request = Proxy::new(
        &conn,
        "org.freedesktop.portal.Desktop",
        request_path.as_str(),
        "org.freedesktop.portal.Request",
    )
    .map_err(no_portal)?;
    let mut responses = request.receive_signal("Response").map_err(no_portal)?;
    let mut options: HashMap<&str, Value<'_>> = HashMap::new();
    options.insert("handle_token", Value::from(token.as_str()));
    options.insert("current_name", Value::from(name));
    if let Some(folder) = folder {
        let mut bytes = folder.as_os_str().as_encoded_bytes().to_vec();
        bytes.push(0);
        options.insert("current_folder", Value::from(bytes));
    }
    let _handle: OwnedObjectPath = chooser
        .call("SaveFile", &("", title, options))
        .map_err(no_portal)?;
    let message = responses
        .next()
        .ok_or_else(|| PortalError::Failed("the portal closed without answering".into()))?;
    let (code, results): (u32, HashMap<String, OwnedValue>) = message
        .body()
        .deserialize()
        .map_err(|e| PortalError::Failed(e.to_string()))?;
    match code {
        0 => {
            let uris: Vec<String> = results
                .get("uris")
                .and_then(|v| Vec::<String>::try_from(v.clone()).ok())
                .unwrap_or_default();
            let uri = uris
                .first()
                .ok_or_else(|| PortalError::Failed("it chose no file".into()))?;
            file_uri_path(uri)
                .map(Chosen::Path)
                .ok_or_else(|| PortalError::Failed(format!("it chose {uri}, not a local file")))
        }
        1 => Ok(Chosen::Cancelled),
        other => Err(PortalError::Failed(format!("it answered {other}"))),
    }
}

/// The desktop's light or dark preference, as its portal says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorScheme {
    NoPreference,
    Dark,
    Light,
}

/// Reads the desktop's `color-scheme` (`org.freedesktop.appearance`): the
/// preference GNOME, KDE and others share through the portal, for a window
/// whose toolkit does not hear it (egui on X11 does not). `bus` is a D-Bus
/// address (tests); none means the session bus.
pub fn color_scheme(bus: Option<&str>) -> Result<ColorScheme, PortalError> {
    let conn = connect(bus)?;
    let no_portal = |e: zbus::Error| PortalError::NoPortal(e.to_string());
    let settings = desktop(&conn, "org.freedesktop.portal.Settings")?;
    let value: OwnedValue = settings
        .call("Read", &("org.freedesktop.appearance", "color-scheme"))
        .map_err(no_portal)?;
    // Read wraps the value in a variant, and older portals wrap it twice.
    let mut value: Value<'_> = value.into();
    while let Value::Value(inner) = value {
        value = *inner;
    }
    match u32::try_from(&value) {
        Ok(1) => Ok(ColorScheme::Dark),
        Ok(2) => Ok(ColorScheme::Light),
        Ok(_) => Ok(ColorScheme::NoPreference),
        Err(e) => Err(PortalError::Failed(format!(
            "color-scheme is not a number: {e}"
        ))),
    }
}

/// A connection to the D-Bus at `bus` (tests), or to the session bus.
fn connect(bus: Option<&str>) -> Result<Connection, PortalError> {
    match bus {
        Some(address) => zbus::blocking::connection::Builder::address(address)
            .and_then(|b| b.build())
            .map_err(|e| PortalError::NoBus(e.to_string())),
        None => Connection::session().map_err(|e| PortalError::NoBus(e.to_string())),
    }
}

/// The desktop portal's `interface` on `conn`.
fn desktop<'a>(conn: &Connection, interface: &'a str) -> Result<Proxy<'a>, PortalError> {
    Proxy::new(
        conn,
        "org.freedesktop.portal.Desktop",
        "/org/freedesktop/portal/desktop",
        interface,
    )
    .map_err(|e| PortalError::NoPortal(e.to_string()))
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

/// The path of a `file://` URI, percent-decoded.
pub fn file_uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = path.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    use std::os::unix::ffi::OsStringExt as _;
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            file_uri_path("file:///home/ana/Downloads/minutes%20v2.pdf"),
            Some(PathBuf::from("/home/ana/Downloads/minutes v2.pdf"))
        );
        assert_eq!(
            file_uri_path("file://localhost/tmp/a.txt"),
            Some(PathBuf::from("/tmp/a.txt"))
        );
        assert_eq!(file_uri_path("https://example.org/a"), None);
    }

    #[test]
    fn without_a_bus_it_says_so_at_once() {
        let started = std::time::Instant::now();
        let e = save_file(Some("unix:path=/nonexistent/bus"), "Save", "a.txt", None).unwrap_err();
        assert!(matches!(e, PortalError::NoBus(_)), "{e}");
        let e = color_scheme(Some("unix:path=/nonexistent/bus")).unwrap_err();
        assert!(matches!(e, PortalError::NoBus(_)), "{e}");
        assert!(started.elapsed().as_secs() < 5);
    }
}
