//! Attachments on disk. A message chooses an attachment's name, its bytes
//! and its claimed type; none of them may choose where it is written or
//! whether it runs. So: a file name safe to create in any folder, files
//! created new (never over a file, never through a link), programs and
//! scripts recognised and never handed to the desktop, and a private folder,
//! made afresh with an unpredictable name, for the files *Open* hands over.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use crate::mime::Attachment;

/// The longest file name written, in bytes: file systems allow 255, and a
/// " (999)" must still fit before the extension.
const NAME_BYTES: usize = 200;

/// How many "name (n).ext" to try before giving up.
const NAMESAKES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error(
        "{name} was not opened: it is {why}, and the desktop may run it instead of showing it. \
Save it instead if you trust it and its sender"
    )]
    Runnable { name: String, why: Runnable },
    #[error("no Downloads folder was found: set XDG_DOWNLOAD_DIR, or create ~/Downloads")]
    NoDownloads,
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} holds {NAMESAKES} files named like {name}: move some away", dir.display())]
    Namesakes { dir: PathBuf, name: String },
    #[error("cannot make a private folder in {}: {source}", dir.display())]
    PrivateFolder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start {program:?} to open {}: {source}", path.display())]
    Opener {
        program: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why a link in a message was not opened.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Not a web or mail link (`javascript:`, `file:`, …): never handed on.
    #[error("{url} is not a web or mail link (http, https, mailto); Pipit does not open it")]
    Scheme { url: String },
    #[error("cannot start {program:?} to open {url}: {source}")]
    Start {
        program: String,
        url: String,
        source: std::io::Error,
    },
    #[error("{program:?} could not open {url} ({status}): no browser took it")]
    Failed {
        program: String,
        url: String,
        status: String,
    },
    /// `xdg-mime` names no program for `mailto:` links: xdg-open would hand
    /// a reply to a web browser, or to nothing.
    #[error("no program is set for mailto: links ({query} answered {answer:?})")]
    NoComposer { query: String, answer: String },
}

/// How long the opener has to say it failed; a browser it starts may keep
/// it running as long as the browser runs.
const OPENER_ANSWERS_IN: std::time::Duration = std::time::Duration::from_secs(3);

/// Why an attachment would run if the desktop were asked to open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runnable {
    /// "a program", "a script", "a launcher".
    pub kind: &'static str,
    /// What gave it away: its name, its first bytes or its declared type.
    pub evidence: String,
}

impl fmt::Display for Runnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind, self.evidence)
    }
}

const PROGRAM: &str = "a program";
const SCRIPT: &str = "a script";
const LAUNCHER: &str = "a launcher that starts a program";

/// Extensions of files a desktop runs, or installs, rather than shows.
/// Generic data (.bin, .dat, .out) is not among them: its first bytes say
/// whether it is a program.
const RUNNABLE_EXTENSIONS: [(&str, &str); 3] = [
    (
        PROGRAM,
        "exe com scr pif msi msp mst cpl dll ocx sys drv efi app ipa apk appimage run elf \
         deb rpm snap flatpak pkg mpkg dmg jar jnlp class xbap so dylib ko x86_64 xpi crx vsix \
         msix appx appxbundle",
    ),
    (
        SCRIPT,
        "sh bash zsh csh tcsh ksh fish command tool py pyc pyo pyw pyz pl pm rb php phar lua \
         tcl awk js jse mjs cjs vbs vbe wsf wsc wsh ws ps1 psm1 psd1 ps1xml bat cmd hta reg inf \
         scpt applescript workflow action msh gadget",
    ),
    (
        LAUNCHER,
        "desktop kdelnk lnk url scf terminal webloc inetloc fileloc appref-ms application \
         settingcontent-ms library-ms flatpakref flatpakrepo",
    ),
];

/// Declared types of programs and scripts.
const RUNNABLE_TYPES: &[(&str, &str)] = &[
    ("application/x-executable", PROGRAM),
    ("application/x-sharedlib", PROGRAM),
    ("application/x-pie-executable", PROGRAM),
    ("application/x-msdownload", PROGRAM),
    ("application/x-msdos-program", PROGRAM),
    ("application/vnd.microsoft.portable-executable", PROGRAM),
    ("application/x-mach-binary", PROGRAM),
    ("application/java-archive", PROGRAM),
    ("application/x-sh", SCRIPT),
    ("application/x-shellscript", SCRIPT),
    ("text/x-shellscript", SCRIPT),
    ("application/x-python-code", SCRIPT),
    ("text/x-python", SCRIPT),
    ("application/x-perl", SCRIPT),
    ("application/x-desktop", LAUNCHER),
    ("application/x-ms-shortcut", LAUNCHER),
];

/// Whether the desktop would run this attachment rather than show it: by
/// its name's real extension (after any direction or invisible characters,
/// and trailing dots and spaces, which Windows drops), by its first bytes,
/// or by its declared type.
pub fn runnable(a: &Attachment) -> Option<Runnable> {
    let extension = real_extension(&a.name);
    if let Some(ext) = &extension {
        for (kind, extensions) in RUNNABLE_EXTENSIONS {
            if extensions.split_whitespace().any(|e| e == ext) {
                return Some(Runnable {
                    kind,
                    evidence: format!("its name ends in .{ext}"),
                });
            }
        }
    }
    let start = a.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&a.bytes);
    let magic: [(&[u8], &str, &str); 7] = [
        (b"#!", SCRIPT, "it starts with #!"),
        (b"\x7fELF", PROGRAM, "its first bytes are a Linux program's"),
        (b"MZ", PROGRAM, "its first bytes are a Windows program's"),
        (
            b"\xCF\xFA\xED\xFE",
            PROGRAM,
            "its first bytes are a macOS program's",
        ),
        (
            b"\xCE\xFA\xED\xFE",
            PROGRAM,
            "its first bytes are a macOS program's",
        ),
        (
            b"\xCA\xFE\xBA\xBE",
            PROGRAM,
            "its first bytes are a program's",
        ),
        (b"[Desktop Entry]", LAUNCHER, "it is a desktop entry"),
    ];
    for (prefix, kind, evidence) in magic {
        if start.starts_with(prefix) {
            return Some(Runnable {
                kind,
                evidence: evidence.into(),
            });
        }
    }
    let declared = a.content_type.to_ascii_lowercase();
    RUNNABLE_TYPES
        .iter()
        .find(|(t, _)| declared == *t)
        .map(|(t, kind)| Runnable {
            kind,
            evidence: format!("it says it is {t}"),
        })
}

/// The extension a file manager and a desktop would see, lower case.
fn real_extension(name: &str) -> Option<String> {
    let seen: String = name.chars().filter(|&c| !crate::reveal::hides(c)).collect();
    let seen = seen.trim_end_matches(['.', ' ']);
    let (_, ext) = seen.rsplit_once('.')?;
    let ext = ext.trim();
    (!ext.is_empty()).then(|| ext.to_lowercase())
}

/// A name safe to create in any folder: no folder separators or characters
/// Windows forbids, none that hide (controls, direction overrides, invisible
/// characters), no leading dot (a hidden file, `.` or `..`), no trailing dot
/// or space, not a Windows device name (CON, NUL, COM1…), and short enough
/// for any file system, its extension kept.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
                || crate::reveal::hides(c)
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    if cleaned.is_empty() {
        return "attachment".into();
    }
    let stem = cleaned.split('.').next().unwrap_or_default();
    let device = matches!(
        stem.trim_end().to_ascii_uppercase().as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || (stem.len() == 4
        && stem.is_ascii()
        && ["COM", "LPT"]
            .iter()
            .any(|p| stem[..3].eq_ignore_ascii_case(p))
        && stem.as_bytes()[3].is_ascii_digit());
    let name = if device {
        format!("_{cleaned}")
    } else {
        cleaned.to_string()
    };
    shorten(&name)
}

/// `name` cut to [`NAME_BYTES`], its extension kept when it has a short one.
fn shorten(name: &str) -> String {
    if name.len() <= NAME_BYTES {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    let ext = if ext.len() <= 16 { ext } else { "" };
    let mut cut = NAME_BYTES - ext.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    // The cut may leave a dot or a space at the end, which Windows drops.
    format!("{}{ext}", stem[..cut].trim_end_matches(['.', ' ']))
}

/// "report.pdf" → ("report", ".pdf"); a name with no dot but the first has no extension.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    }
}

/// Writes `bytes` to a new file in `dir` named `name`, or "name (1).ext" and
/// so on if taken. Never over a file, never through a link: the file is
/// created exclusively (`O_CREAT | O_EXCL`, which a link at its place fails).
fn write_new(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<PathBuf, AttachmentError> {
    let (stem, ext) = split_extension(name);
    for n in 0..NAMESAKES {
        let path = if n == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
        {
            Ok(mut file) => {
                let written = file.write_all(bytes).and_then(|()| file.sync_all());
                return match written {
                    Ok(()) => Ok(path),
                    Err(source) => {
                        // Half a file would pass for the attachment.
                        let _ = fs::remove_file(&path);
                        Err(AttachmentError::Write { path, source })
                    }
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(AttachmentError::Write { path, source }),
        }
    }
    Err(AttachmentError::Namesakes {
        dir: dir.to_path_buf(),
        name: name.to_string(),
    })
}

/// Where *Save…* asks for a place to save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chooser {
    /// The desktop's file chooser, through the XDG portal on the session bus.
    Portal,
    /// The portal on the D-Bus at this address (tests).
    PortalAt(String),
    /// No chooser: straight into the save folder.
    Off,
}

/// Where a *Save…* went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    /// Written here; `fallback` says why no file chooser was asked.
    At {
        path: PathBuf,
        fallback: Option<String>,
    },
    /// The user closed the file chooser.
    Cancelled,
}

/// Where the reader's *Save…* and *Open* put attachments.
pub struct Folders {
    /// *Save…* starts here (in the file chooser, or writes here without
    /// one); none means the user's Downloads folder.
    pub save_dir: Option<PathBuf>,
    pub chooser: Chooser,
    /// The program that hands a file to the desktop.
    pub opener: OsString,
    /// The program asked which program takes `mailto:` links (`xdg-mime`),
    /// before a reply is handed to the opener; none asks nothing.
    pub mailto_query: Option<OsString>,
    /// Holds the files *Open* wrote; made on first use, removed when dropped.
    private: Option<PrivateFolder>,
}

impl Default for Folders {
    fn default() -> Self {
        Folders {
            save_dir: None,
            chooser: Chooser::Portal,
            opener: "xdg-open".into(),
            mailto_query: Some("xdg-mime".into()),
            private: None,
        }
    }
}

impl Folders {
    /// Saves into the save folder, as a new file; returns its path.
    pub fn save(&self, a: &Attachment) -> Result<PathBuf, AttachmentError> {
        let dir = match &self.save_dir {
            Some(dir) => dir.clone(),
            None => downloads()?,
        };
        write_new(&dir, &safe_file_name(&a.name), &a.bytes, 0o666)
    }

    /// *Save…*: asks the desktop's file chooser where, starting in the save
    /// folder; without one, saves into the save folder and says why.
    pub fn save_chosen(&self, a: &Attachment) -> Result<Saved, AttachmentError> {
        let name = safe_file_name(&a.name);
        let start = match &self.save_dir {
            Some(dir) => Some(dir.clone()),
            None => downloads().ok(),
        };
        let bus = match &self.chooser {
            Chooser::Off => None,
            Chooser::Portal => Some(None),
            Chooser::PortalAt(address) => Some(Some(address.as_str())),
        };
        let fallback = match bus {
            None => None,
            Some(bus) => {
                match crate::portal::save_file(bus, "Save attachment", &name, start.as_deref()) {
                    Ok(crate::portal::Chosen::Path(path)) => {
                        return write_chosen(&path, &a.bytes).map(|path| Saved::At {
                            path,
                            fallback: None,
                        });
                    }
                    Ok(crate::portal::Chosen::Cancelled) => return Ok(Saved::Cancelled),
                    Err(e) => Some(e.to_string()),
                }
            }
        };
        let path = self.save(a)?;
        Ok(Saved::At { path, fallback })
    }

    /// Writes the attachment, readable by this user only, into this run's
    /// private folder and hands it to the desktop; refuses a program.
    pub fn open(&mut self, a: &Attachment) -> Result<PathBuf, AttachmentError> {
        if let Some(why) = runnable(a) {
            return Err(AttachmentError::Runnable {
                name: crate::reveal::field(&a.name).into_owned(),
                why,
            });
        }
        let dir = match &self.private {
            Some(p) => p.path.clone(),
            None => {
                let made = PrivateFolder::make(&std::env::temp_dir())?;
                let path = made.path.clone();
                self.private = Some(made);
                path
            }
        };
        let path = write_new(&dir, &safe_file_name(&a.name), &a.bytes, 0o400)?;
        let mut child = std::process::Command::new(&self.opener)
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .spawn()
            .map_err(|source| AttachmentError::Opener {
                program: self.opener.to_string_lossy().into_owned(),
                path: path.clone(),
                source,
            })?;
        // Reaped when it ends, so no zombie waits for Pipit to exit.
        std::thread::spawn(move || child.wait());
        Ok(path)
    }

    /// Hands a web or mail link to the desktop's browser, with the same
    /// program *Open* uses; a failure it reports within a few seconds (no
    /// browser found) is an error, not silence.
    pub fn open_link(&self, url: &str) -> Result<(), LinkError> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https" | "mailto")) {
            return Err(LinkError::Scheme { url: url.into() });
        }
        run_opener(&self.opener, &[], url)
    }

    /// Hands a `mailto:` URI (a reply, a forward) to the desktop's mail
    /// composer, with the program *Open* uses. First asks `xdg-mime` which
    /// program takes `mailto:` links: where it names none, xdg-open would
    /// hand the reply to a web browser, or fail, so that is an error. Where
    /// the question cannot be asked (no `xdg-mime`), the opener decides.
    pub fn compose(&self, uri: &str) -> Result<(), LinkError> {
        if let Some(query) = &self.mailto_query {
            let answer = std::process::Command::new(query)
                .args(["query", "default", "x-scheme-handler/mailto"])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output();
            if let Ok(out) = answer {
                let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if answer.is_empty() {
                    return Err(LinkError::NoComposer {
                        query: query.to_string_lossy().into_owned(),
                        answer,
                    });
                }
            }
        }
        run_opener(&self.opener, &[], uri)
    }

    /// The private folder *Open* writes into, once made.
    pub fn private_folder(&self) -> Option<&Path> {
        self.private.as_ref().map(|p| p.path.as_path())
    }
}

/// Runs `program args… url`, the program that hands a link to the
/// desktop's browser; a failure it reports within a few seconds (no
/// browser found) is an error, not silence. The sign-in opens its page
/// with this too.
pub fn run_opener(program: &std::ffi::OsStr, args: &[String], url: &str) -> Result<(), LinkError> {
    let name = program.to_string_lossy().into_owned();
    let mut child = std::process::Command::new(program)
        .args(args)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|source| LinkError::Start {
            program: name.clone(),
            url: url.into(),
            source,
        })?;
    let started = std::time::Instant::now();
    while started.elapsed() < OPENER_ANSWERS_IN {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(LinkError::Failed {
                    program: name,
                    url: url.into(),
                    status: status.to_string(),
                });
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(_) => break,
        }
    }
    // Still running: a browser it started. Reaped when it ends.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// The user's Downloads folder; where the desktop names none, ~/Downloads,
/// made if missing (never the home folder itself).
fn downloads() -> Result<PathBuf, AttachmentError> {
    let dirs = directories::UserDirs::new().ok_or(AttachmentError::NoDownloads)?;
    if let Some(dir) = dirs.download_dir() {
        return Ok(dir.to_path_buf());
    }
    let dir = dirs.home_dir().join("Downloads");
    DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&dir)
        .map_err(|source| AttachmentError::Write {
            path: dir.clone(),
            source,
        })?;
    Ok(dir)
}

/// Writes `bytes` at the path the user chose in the file chooser (which has
/// asked about replacing a file there): into a new file beside it, then
/// renamed into place, so a link at the path is replaced, never followed.
fn write_chosen(path: &Path, bytes: &[u8]) -> Result<PathBuf, AttachmentError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".into());
    let partial = write_new(dir, &format!(".{name}.pipit-partial"), bytes, 0o666)?;
    fs::rename(&partial, path).map_err(|source| {
        let _ = fs::remove_file(&partial);
        AttachmentError::Write {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(path.to_path_buf())
}

/// A folder only this user can enter (mode 0700), with a name nobody can
/// guess (128 random bits), made by `mkdir`, which fails rather than reuse
/// anything already at that path, link or folder. Removed, with its files,
/// when dropped: when the window closes.
struct PrivateFolder {
    path: PathBuf,
}

impl PrivateFolder {
    fn make(parent: &Path) -> Result<PrivateFolder, AttachmentError> {
        use ring::rand::SecureRandom as _;
        let failed = |source| AttachmentError::PrivateFolder {
            dir: parent.to_path_buf(),
            source,
        };
        let mut random = [0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut random)
            .map_err(|_| failed(std::io::Error::other("no random numbers to name it")))?;
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path = parent.join(format!("pipit-{name}"));
        DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(failed)?;
        Ok(PrivateFolder { path })
    }
}

impl Drop for PrivateFolder {
    fn drop(&mut self) {
        // remove_dir_all removes links, never what they point to.
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn attachment(name: &str, bytes: &[u8]) -> Attachment {
        Attachment {
            name: name.into(),
            content_type: "application/octet-stream".into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn attachment_names_cannot_escape_the_folder() {
        for (given, safe) in [
            ("../../etc/passwd", "_.._etc_passwd"),
            ("/etc/passwd", "_etc_passwd"),
            ("..\\..\\Windows\\evil.dll", "_.._Windows_evil.dll"),
            ("C:\\Users\\evil.txt", "C__Users_evil.txt"),
            ("..", "attachment"),
            (".", "attachment"),
            ("", "attachment"),
            (" . ", "attachment"),
            (".bashrc", "bashrc"),
            ("trailing dot. ", "trailing dot"),
            ("invoice\u{202E}fdp.exe", "invoice_fdp.exe"),
            ("a\0b\x1b[2J.txt", "a_b_[2J.txt"),
            ("report.pdf", "report.pdf"),
            ("Grüße aus Köln.pdf", "Grüße aus Köln.pdf"),
        ] {
            assert_eq!(safe_file_name(given), safe, "{given:?}");
        }
    }

    #[test]
    fn windows_device_names_are_not_devices() {
        for (given, safe) in [
            ("CON", "_CON"),
            ("nul.txt", "_nul.txt"),
            ("COM1.pdf", "_COM1.pdf"),
            ("lpt9", "_lpt9"),
            ("aux.tar.gz", "_aux.tar.gz"),
            ("CONTRACT.pdf", "CONTRACT.pdf"),
            ("COM.pdf", "COM.pdf"),
            ("COMA.pdf", "COMA.pdf"),
            ("a€.txt", "a€.txt"),
            ("é€.txt", "é€.txt"),
        ] {
            assert_eq!(safe_file_name(given), safe, "{given:?}");
        }
    }

    // Fuzzing on stable: PROPTEST_CASES=100000 cargo test attachment::tests::fuzz runs longer.
    proptest::proptest! {
        #[test]
        fn fuzz_any_name_becomes_one_safe_file_name(name in "\\PC{0,300}") {
            let safe = safe_file_name(&name);
            proptest::prop_assert!(!safe.is_empty() && safe.len() <= NAME_BYTES);
            proptest::prop_assert!(!safe.contains(['/', '\\', '\0']) && !safe.starts_with('.'));
            proptest::prop_assert!(!safe.chars().any(crate::reveal::hides), "{:?}", safe);
            proptest::prop_assert!(safe != ".." && !safe.ends_with(['.', ' ']));
        }
    }

    #[test]
    fn long_names_are_cut_and_keep_their_extension() {
        let long = format!("{}.pdf", "a".repeat(9_996));
        let safe = safe_file_name(&long);
        assert_eq!(safe.len(), NAME_BYTES);
        assert!(safe.ends_with("aaa.pdf"));
        let wide = format!("{}.txt", "é".repeat(5_000));
        let safe = safe_file_name(&wide);
        assert!(
            safe.len() <= NAME_BYTES && safe.ends_with("é.txt"),
            "{safe}"
        );
        let no_ext = "b".repeat(300);
        assert_eq!(safe_file_name(&no_ext).len(), NAME_BYTES);
        let space_at_the_cut = format!("{} {}", "c".repeat(NAME_BYTES - 1), "d".repeat(100));
        assert_eq!(
            safe_file_name(&space_at_the_cut),
            "c".repeat(NAME_BYTES - 1)
        );
    }

    #[test]
    fn programs_scripts_and_launchers_are_recognised() {
        let harmless = b"%PDF-1.4";
        for name in [
            "invoice\u{202E}fdp.exe",
            "photo\u{202E}gpj.scr",
            "report.pdf\u{200B}.desktop",
            "statement.pdf .exe",
            "setup.EXE",
            "evil.exe.",
            "run.sh",
            "install.deb",
            "macro.ps1",
            "shortcut.lnk",
        ] {
            let why = runnable(&attachment(name, harmless));
            assert!(why.is_some(), "{name:?} passes for harmless");
        }
        for (bytes, kind) in [
            (&b"#!/bin/sh\necho hi\n"[..], SCRIPT),
            (b"\x7fELF\x02\x01\x01", PROGRAM),
            (b"MZ\x90\x00", PROGRAM),
            (b"\xEF\xBB\xBF[Desktop Entry]\nExec=sh", LAUNCHER),
        ] {
            assert_eq!(
                runnable(&attachment("notes.txt", bytes)).map(|r| r.kind),
                Some(kind)
            );
        }
        let mut declared = attachment("data", b"hello");
        declared.content_type = "application/x-msdownload".into();
        assert_eq!(runnable(&declared).map(|r| r.kind), Some(PROGRAM));
        for name in [
            "report.pdf",
            "photo.jpg",
            "notes.txt",
            "archive.tar.gz",
            "README",
            "x.exe.pdf",
            "data.bin",
        ] {
            assert_eq!(runnable(&attachment(name, harmless)), None, "{name:?}");
        }
        let why = runnable(&attachment("invoice\u{202E}fdp.exe", b"")).unwrap();
        assert_eq!(why.to_string(), "a program (its name ends in .exe)");
    }

    #[test]
    fn save_writes_new_files_in_its_folder_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("saved");
        fs::create_dir(&dir).unwrap();
        let folders = Folders {
            save_dir: Some(dir.clone()),
            ..Folders::default()
        };
        let a = attachment("../report.pdf", b"one");
        let first = folders.save(&a).unwrap();
        let second = folders.save(&a).unwrap();
        assert_eq!(first, dir.join("_report.pdf"));
        assert_eq!(second, dir.join("_report (1).pdf"), "never over a file");
        assert_eq!(fs::read(&first).unwrap(), b"one");
        // A link planted at the name is not followed.
        let target = root.path().join("target");
        std::os::unix::fs::symlink(&target, dir.join("planted.txt")).unwrap();
        let saved = folders.save(&attachment("planted.txt", b"two")).unwrap();
        assert_eq!(saved, dir.join("planted (1).txt"));
        assert!(!target.exists(), "nothing written through the link");
        let mut entries: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        entries.sort();
        assert_eq!(entries, ["saved"], "nothing beside the folder");
    }

    #[test]
    fn open_writes_into_a_private_folder_removed_when_done() {
        let mut folders = Folders {
            opener: "true".into(),
            ..Folders::default()
        };
        let path = folders.open(&attachment("notes.txt", b"hello")).unwrap();
        let dir = folders.private_folder().unwrap().to_path_buf();
        assert_eq!(path.parent(), Some(dir.as_path()));
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        let mode = |p: &Path| fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "only this user may enter");
        assert_eq!(
            mode(&path),
            0o400,
            "only this user may read, and nobody run"
        );
        let name = dir.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("pipit-") && name.len() == "pipit-".len() + 32,
            "{name}"
        );
        assert_ne!(
            PrivateFolder::make(&std::env::temp_dir()).unwrap().path,
            dir,
            "another name each time"
        );
        // The same name twice: two files, the first left alone.
        let again = folders.open(&attachment("notes.txt", b"other")).unwrap();
        assert_ne!(again, path);
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        drop(folders);
        assert!(!dir.exists(), "removed with its files");
    }

    #[test]
    fn a_reply_goes_to_the_opener_only_where_a_program_takes_mailto_links() {
        let with = |query: &str, opener: &str| Folders {
            opener: opener.into(),
            mailto_query: Some(query.into()),
            ..Folders::default()
        };
        // `echo` answers with words: some program takes them.
        assert!(with("echo", "true").compose("mailto:a@example.org").is_ok());
        // `true` answers nothing: no mail program, and the opener is not asked.
        assert!(matches!(
            with("true", "/nonexistent/xdg-open").compose("mailto:a@example.org"),
            Err(LinkError::NoComposer { .. })
        ));
        // No xdg-mime to ask: the opener decides.
        assert!(
            with("/nonexistent/xdg-mime", "true")
                .compose("mailto:a@example.org")
                .is_ok()
        );
        assert!(matches!(
            with("echo", "false").compose("mailto:a@example.org"),
            Err(LinkError::Failed { .. })
        ));
    }

    #[test]
    fn a_link_goes_to_the_opener_only_if_it_is_a_web_or_mail_link_and_its_failure_shows() {
        let with = |opener: &str| Folders {
            opener: opener.into(),
            ..Folders::default()
        };
        assert!(with("true").open_link("https://example.org/").is_ok());
        assert!(with("true").open_link("mailto:ana@example.org").is_ok());
        for url in ["javascript:alert(1)", "file:///etc/passwd", "--help", "x"] {
            assert!(
                matches!(with("true").open_link(url), Err(LinkError::Scheme { .. })),
                "{url}"
            );
        }
        assert!(matches!(
            with("/nonexistent/xdg-open").open_link("https://example.org/"),
            Err(LinkError::Start { .. })
        ));
        assert_eq!(
            with("false")
                .open_link("https://example.org/")
                .unwrap_err()
                .to_string(),
            "\"false\" could not open https://example.org/ (exit status: 1): no browser took it"
        );
    }

    #[test]
    fn failures_say_what_happened_and_what_to_do() {
        let a = attachment("notes.txt", b"hello");
        let nowhere = Folders {
            save_dir: Some("/nonexistent/pipit".into()),
            ..Folders::default()
        };
        assert_eq!(
            nowhere.save(&a).unwrap_err().to_string(),
            "cannot write /nonexistent/pipit/notes.txt: No such file or directory (os error 2)"
        );
        assert_eq!(
            PrivateFolder::make(Path::new("/nonexistent"))
                .err()
                .unwrap()
                .to_string(),
            "cannot make a private folder in /nonexistent: No such file or directory (os error 2)"
        );
        let mut no_opener = Folders {
            opener: "/nonexistent/xdg-open".into(),
            ..Folders::default()
        };
        let err = no_opener.open(&a).unwrap_err().to_string();
        let written = no_opener.private_folder().unwrap().join("notes.txt");
        assert_eq!(
            err,
            format!(
                "cannot start \"/nonexistent/xdg-open\" to open {}: No such file or directory (os error 2)",
                written.display()
            )
        );
        let full = tempfile::tempdir().unwrap();
        let crowded = Folders {
            save_dir: Some(full.path().to_path_buf()),
            ..Folders::default()
        };
        fs::write(full.path().join("notes.txt"), b"").unwrap();
        for n in 1..NAMESAKES {
            fs::write(full.path().join(format!("notes ({n}).txt")), b"").unwrap();
        }
        assert_eq!(
            crowded.save(&a).unwrap_err().to_string(),
            format!(
                "{} holds 1000 files named like notes.txt: move some away",
                full.path().display()
            )
        );
    }

    #[test]
    fn a_program_is_never_handed_to_the_desktop() {
        let mut folders = Folders {
            // Were it called, the test would see the file it was given.
            opener: "false".into(),
            ..Folders::default()
        };
        let err = folders
            .open(&attachment("invoice\u{202E}fdp.exe", b"MZ"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invoice[U+202E]fdp.exe was not opened: it is a program (its name ends in .exe), \
and the desktop may run it instead of showing it. Save it instead if you trust it and its sender"
        );
        assert!(folders.private_folder().is_none(), "nothing was written");
    }
}
