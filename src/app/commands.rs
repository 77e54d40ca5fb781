//! Every action of the window, with its label, tooltip and shortcut, in one
//! table: menus, buttons and keys all read from here.

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
    Open,
    Escape,
    AddAccount,
}

impl UiCommand {
    pub const ALL: [UiCommand; 10] = [
        UiCommand::GetMail,
        UiCommand::Delete,
        UiCommand::Restore,
        UiCommand::EmptyTrash,
        UiCommand::Search,
        UiCommand::Next,
        UiCommand::Previous,
        UiCommand::Open,
        UiCommand::Escape,
        UiCommand::AddAccount,
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
            UiCommand::Open => "Open",
            UiCommand::Escape => "Close",
            UiCommand::AddAccount => "Add account…",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            UiCommand::GetMail => "Download new mail from every account (F5 or Ctrl+R)",
            UiCommand::Delete => {
                "Move the message to Trash; the account's policy decides the server side (Delete)"
            }
            UiCommand::Restore => "Take the message out of Trash",
            UiCommand::EmptyTrash => "Remove everything in Trash for good",
            UiCommand::Search => "Search sender, subject and text (Ctrl+F)",
            UiCommand::Next => "Select the next message (Down or j)",
            UiCommand::Previous => "Select the previous message (Up or k)",
            UiCommand::Open => "Open the selected message (Enter)",
            UiCommand::Escape => "Clear the search or close the dialog (Escape)",
            UiCommand::AddAccount => "Set up another mail account",
        }
    }

    /// Shortcuts that work even while typing in a text field.
    pub fn global_shortcuts(self) -> &'static [KeyboardShortcut] {
        const F5: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
        const CTRL_R: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::R);
        const CTRL_F: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
        const ESC: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::Escape);
        match self {
            UiCommand::GetMail => &[F5, CTRL_R],
            UiCommand::Search => &[CTRL_F],
            UiCommand::Escape => &[ESC],
            _ => &[],
        }
    }

    /// Shortcuts that work only when no text field has the keyboard.
    pub fn list_shortcuts(self) -> &'static [KeyboardShortcut] {
        const fn key(k: Key) -> KeyboardShortcut {
            KeyboardShortcut::new(Modifiers::NONE, k)
        }
        const DOWN: [KeyboardShortcut; 2] = [key(Key::ArrowDown), key(Key::J)];
        const UP: [KeyboardShortcut; 2] = [key(Key::ArrowUp), key(Key::K)];
        const DELETE: [KeyboardShortcut; 1] = [key(Key::Delete)];
        const ENTER: [KeyboardShortcut; 1] = [key(Key::Enter)];
        match self {
            UiCommand::Next => &DOWN,
            UiCommand::Previous => &UP,
            UiCommand::Delete => &DELETE,
            UiCommand::Open => &ENTER,
            _ => &[],
        }
    }

    /// The commands whose shortcut was pressed this frame (the keys are consumed).
    pub fn pressed(ctx: &egui::Context) -> Vec<UiCommand> {
        let typing = ctx.egui_wants_keyboard_input();
        let mut out = Vec::new();
        ctx.input_mut(|input| {
            for command in UiCommand::ALL {
                let list = if typing {
                    &[][..]
                } else {
                    command.list_shortcuts()
                };
                if command
                    .global_shortcuts()
                    .iter()
                    .chain(list)
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
