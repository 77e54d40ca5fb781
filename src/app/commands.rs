//! Every action of the window, with its label, tooltip and shortcut, in one
//! table: buttons, keys and the shortcut list under Help (F1) all read from here.

use egui::{Key, KeyboardShortcut, Modifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiCommand {
    GetMail,
    Delete,
    Restore,
    EmptyTrash,
    Search,
    Next,
    Previous,
    First,
    Last,
    PageDown,
    PageUp,
    /// Space: the reader's text one page on.
    ScrollReader,
    Open,
    /// In a narrow window, from the reader back to the list.
    BackToList,
    Escape,
    AddAccount,
    Help,
    /// The message in the reader, answered in the desktop's mail composer.
    Reply,
    ReplyAll,
    Forward,
    /// The whole window larger, smaller, or as it was (remembered).
    ZoomIn,
    ZoomOut,
    ZoomReset,
    /// The n-th view in the sidebar (0: All mail).
    View(usize),
}

const fn key(k: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::NONE, k)
}

const fn ctrl(k: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::COMMAND, k)
}

const VIEW_KEYS: [KeyboardShortcut; 9] = [
    ctrl(Key::Num1),
    ctrl(Key::Num2),
    ctrl(Key::Num3),
    ctrl(Key::Num4),
    ctrl(Key::Num5),
    ctrl(Key::Num6),
    ctrl(Key::Num7),
    ctrl(Key::Num8),
    ctrl(Key::Num9),
];

impl UiCommand {
    pub const ALL: [UiCommand; 33] = [
        UiCommand::GetMail,
        UiCommand::Delete,
        UiCommand::Restore,
        UiCommand::EmptyTrash,
        UiCommand::Search,
        UiCommand::Next,
        UiCommand::Previous,
        UiCommand::First,
        UiCommand::Last,
        UiCommand::PageDown,
        UiCommand::PageUp,
        UiCommand::ScrollReader,
        UiCommand::Open,
        UiCommand::BackToList,
        UiCommand::Escape,
        UiCommand::AddAccount,
        UiCommand::Help,
        UiCommand::Reply,
        UiCommand::ReplyAll,
        UiCommand::Forward,
        UiCommand::ZoomIn,
        UiCommand::ZoomOut,
        UiCommand::ZoomReset,
        UiCommand::View(0),
        UiCommand::View(1),
        UiCommand::View(2),
        UiCommand::View(3),
        UiCommand::View(4),
        UiCommand::View(5),
        UiCommand::View(6),
        UiCommand::View(7),
        UiCommand::View(8),
        UiCommand::View(9),
    ];

    pub fn label(self) -> &'static str {
        match self {
            UiCommand::GetMail => "Get Mail",
            UiCommand::Delete => "Delete",
            UiCommand::Restore => "Restore",
            UiCommand::EmptyTrash => "Empty Trash",
            UiCommand::Search => "Search",
            UiCommand::Next => "Next message",
            UiCommand::Previous => "Previous message",
            UiCommand::First => "First message",
            UiCommand::Last => "Last message",
            UiCommand::PageDown => "One page down",
            UiCommand::PageUp => "One page up",
            UiCommand::ScrollReader => "Read on",
            UiCommand::Open => "Open",
            UiCommand::BackToList => "← Back to the list",
            UiCommand::Escape => "Close",
            UiCommand::AddAccount => "Add account…",
            UiCommand::Help => "Help",
            UiCommand::Reply => "Reply",
            UiCommand::ReplyAll => "Reply All",
            UiCommand::Forward => "Forward",
            UiCommand::ZoomIn => "Zoom in",
            UiCommand::ZoomOut => "Zoom out",
            UiCommand::ZoomReset => "Actual size",
            UiCommand::View(_) => "Show a view",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            UiCommand::GetMail => "Download new mail from every account (F5)",
            UiCommand::Delete => {
                "Move the message to Trash; its copy on the server goes at the next Get Mail, whatever the account keeps there (Delete)"
            }
            UiCommand::Restore => "Take the message out of Trash (R)",
            UiCommand::EmptyTrash => "Remove everything in Trash for good",
            UiCommand::Search => "Search sender, subject and text (Ctrl+F); Down goes to the list",
            UiCommand::Next => "Select the next message (Down or j)",
            UiCommand::Previous => "Select the previous message (Up or k)",
            UiCommand::First => "Select the first message (Home)",
            UiCommand::Last => "Select the last message (End)",
            UiCommand::PageDown => "Select the message one page down (Page Down)",
            UiCommand::PageUp => "Select the message one page up (Page Up)",
            UiCommand::ScrollReader => "Scroll the message one page on (Space)",
            UiCommand::Open => "Open the selected message (Enter)",
            UiCommand::BackToList => "Back to the message list (Escape)",
            UiCommand::Escape => "Close the dialog, or clear the search (Escape)",
            UiCommand::AddAccount => "Set up another mail account",
            UiCommand::Help => "The keyboard shortcuts (F1)",
            UiCommand::Reply => {
                "Answer the sender in your mail program, with the message quoted (Ctrl+R)"
            }
            UiCommand::ReplyAll => {
                "Answer the sender and everyone else it went to, in your mail program \
(Ctrl+Shift+R)"
            }
            UiCommand::Forward => "Send the message on from your mail program (Ctrl+L)",
            UiCommand::ZoomIn => "Make everything larger (Ctrl++)",
            UiCommand::ZoomOut => "Make everything smaller (Ctrl+-)",
            UiCommand::ZoomReset => "Everything at its usual size (Ctrl+0)",
            UiCommand::View(_) => "All mail, each account, On server, Trash (Ctrl+1 … Ctrl+9)",
        }
    }

    /// Shortcuts that work even while typing in a text field.
    pub fn global_shortcuts(self) -> &'static [KeyboardShortcut] {
        const F5: [KeyboardShortcut; 1] = [key(Key::F5)];
        const CTRL_R: [KeyboardShortcut; 1] = [ctrl(Key::R)];
        const CTRL_SHIFT_R: [KeyboardShortcut; 1] = [KeyboardShortcut::new(
            Modifiers::COMMAND.plus(Modifiers::SHIFT),
            Key::R,
        )];
        const CTRL_L: [KeyboardShortcut; 1] = [ctrl(Key::L)];
        // Ctrl+= too: on most keyboards + is Shift+=.
        const ZOOM_IN: [KeyboardShortcut; 2] = [ctrl(Key::Plus), ctrl(Key::Equals)];
        const ZOOM_OUT: [KeyboardShortcut; 1] = [ctrl(Key::Minus)];
        const ZOOM_RESET: [KeyboardShortcut; 1] = [ctrl(Key::Num0)];
        const CTRL_F: [KeyboardShortcut; 1] = [ctrl(Key::F)];
        const ESC: [KeyboardShortcut; 1] = [key(Key::Escape)];
        const F1: [KeyboardShortcut; 1] = [key(Key::F1)];
        match self {
            UiCommand::GetMail => &F5,
            UiCommand::Search => &CTRL_F,
            UiCommand::Escape => &ESC,
            UiCommand::Help => &F1,
            UiCommand::Reply => &CTRL_R,
            UiCommand::ReplyAll => &CTRL_SHIFT_R,
            UiCommand::Forward => &CTRL_L,
            UiCommand::ZoomIn => &ZOOM_IN,
            UiCommand::ZoomOut => &ZOOM_OUT,
            UiCommand::ZoomReset => &ZOOM_RESET,
            UiCommand::View(n) if n < VIEW_KEYS.len() => &VIEW_KEYS[n..=n],
            _ => &[],
        }
    }

    /// Shortcuts that work only when no text field has the keyboard.
    pub fn list_shortcuts(self) -> &'static [KeyboardShortcut] {
        const DOWN: [KeyboardShortcut; 2] = [key(Key::ArrowDown), key(Key::J)];
        const UP: [KeyboardShortcut; 2] = [key(Key::ArrowUp), key(Key::K)];
        const DELETE: [KeyboardShortcut; 1] = [key(Key::Delete)];
        const ENTER: [KeyboardShortcut; 1] = [key(Key::Enter)];
        const HOME: [KeyboardShortcut; 1] = [key(Key::Home)];
        const END: [KeyboardShortcut; 1] = [key(Key::End)];
        const PAGE_DOWN: [KeyboardShortcut; 1] = [key(Key::PageDown)];
        const PAGE_UP: [KeyboardShortcut; 1] = [key(Key::PageUp)];
        const SPACE: [KeyboardShortcut; 1] = [key(Key::Space)];
        const R: [KeyboardShortcut; 1] = [key(Key::R)];
        match self {
            UiCommand::Next => &DOWN,
            UiCommand::Previous => &UP,
            UiCommand::First => &HOME,
            UiCommand::Last => &END,
            UiCommand::PageDown => &PAGE_DOWN,
            UiCommand::PageUp => &PAGE_UP,
            UiCommand::ScrollReader => &SPACE,
            UiCommand::Delete => &DELETE,
            UiCommand::Restore => &R,
            UiCommand::Open => &ENTER,
            _ => &[],
        }
    }

    /// The keys as the shortcut list writes them.
    pub fn keys_text(self) -> String {
        self.global_shortcuts()
            .iter()
            .chain(self.list_shortcuts())
            .map(|s| {
                let mut text = String::new();
                if s.modifiers.command {
                    text.push_str("Ctrl+");
                }
                if s.modifiers.shift {
                    text.push_str("Shift+");
                }
                text.push_str(match s.logical_key {
                    Key::Plus => "+",
                    Key::Minus => "-",
                    Key::Equals => "=",
                    Key::ArrowDown => "Down",
                    Key::ArrowUp => "Up",
                    Key::PageDown => "Page Down",
                    Key::PageUp => "Page Up",
                    k => k.name(),
                });
                text
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the command's keys work while a dialog is open.
    fn in_dialogs(self) -> bool {
        matches!(
            self,
            UiCommand::Escape | UiCommand::ZoomIn | UiCommand::ZoomOut | UiCommand::ZoomReset
        )
    }

    /// The commands whose shortcut was pressed this frame (the keys are
    /// consumed). While a dialog is open only Escape and the zoom are
    /// taken: the dialog's own keys are its own.
    pub fn pressed(ctx: &egui::Context, dialog_open: bool, in_list: bool) -> Vec<UiCommand> {
        // A text field keeps the list's keys; a button reached with Tab
        // keeps Enter and Space, which press it; the list (`in_list`)
        // leaves them to the list's commands (Open, Read on).
        let typing = ctx.text_edit_focused();
        let on_widget = !in_list && ctx.memory(|m| m.focused()).is_some();
        let mut out = Vec::new();
        // A key is taken with more modifiers than its shortcut names
        // (egui ignores an extra Shift): Ctrl+Shift+R is looked for before
        // Ctrl+R, or Reply would take Reply All's key.
        let mut order = UiCommand::ALL;
        order.sort_by_key(|c| !c.global_shortcuts().iter().any(|s| s.modifiers.shift));
        ctx.input_mut(|input| {
            for command in order {
                if dialog_open && !command.in_dialogs() {
                    continue;
                }
                let list = if typing {
                    &[][..]
                } else {
                    command.list_shortcuts()
                };
                let pressing = |s: &KeyboardShortcut| {
                    on_widget && matches!(s.logical_key, Key::Enter | Key::Space)
                };
                if command
                    .global_shortcuts()
                    .iter()
                    .chain(list)
                    .filter(|s| !pressing(s))
                    .any(|s| input.consume_shortcut(s))
                {
                    out.push(command);
                }
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_words_and_no_two_share_a_key() {
        let mut seen = Vec::new();
        for c in UiCommand::ALL {
            assert!(!c.label().is_empty() && !c.tooltip().is_empty());
            for s in c.global_shortcuts().iter().chain(c.list_shortcuts()) {
                assert!(!seen.contains(s), "{c:?} reuses {s:?}");
                seen.push(*s);
            }
        }
    }
}
