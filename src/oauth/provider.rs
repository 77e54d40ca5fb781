//! Where to sign in: the presets for the large providers whose POP3
//! servers want OAuth2, or any authorization server that publishes RFC 8414
//! metadata. Pipit has no client registration of its own yet: the client
//! id comes from the account (`--client-id`) or from the build
//! (`PIPIT_MICROSOFT_CLIENT_ID`, `PIPIT_GOOGLE_CLIENT_ID` and
//! `PIPIT_GOOGLE_CLIENT_SECRET` set when Pipit is compiled).

use oauth2::{ClientId, ClientSecret};

use super::http::{Http, checked};
use super::{OAuthConfig, SignInError};

/// An authorization server Pipit can sign in with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    Microsoft,
    Google,
    /// An authorization server named by its issuer URL (RFC 8414).
    Issuer(String),
}

/// The addresses and scopes of one sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub authorize: Option<String>,
    pub token: String,
    pub device: Option<String>,
    pub scopes: Vec<String>,
    /// Extra parameters for the browser's request (Google gives a refresh
    /// token only when asked for offline access).
    pub extra: Vec<(&'static str, &'static str)>,
}

impl Provider {
    pub fn parse(name: &str) -> Result<Provider, SignInError> {
        let name = name.trim();
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "microsoft" | "outlook" | "office365" => Ok(Provider::Microsoft),
            "google" | "gmail" => Ok(Provider::Google),
            _ if lower.starts_with("https://") || lower.starts_with("http://") => {
                checked(name)?;
                Ok(Provider::Issuer(name.trim_end_matches('/').to_string()))
            }
            _ => Err(SignInError::UnknownProvider(name.to_string())),
        }
    }

    /// The name a user knows it by.
    pub fn name(&self) -> &str {
        match self {
            Provider::Microsoft => "Microsoft",
            Provider::Google => "Google",
            Provider::Issuer(url) => url,
        }
    }

    /// The config file's word for it.
    pub fn key(&self) -> &str {
        match self {
            Provider::Microsoft => "microsoft",
            Provider::Google => "google",
            Provider::Issuer(url) => url,
        }
    }

    /// The provider's POP3 server (host, port; implicit TLS), where it has one.
    pub fn pop3_server(&self) -> Option<(&'static str, u16)> {
        match self {
            Provider::Microsoft => Some(("outlook.office365.com", 995)),
            Provider::Google => Some(("pop.gmail.com", 995)),
            Provider::Issuer(_) => None,
        }
    }

    /// The client registration to sign in as.
    pub fn client(
        &self,
        config: &OAuthConfig,
    ) -> Result<(ClientId, Option<ClientSecret>), SignInError> {
        let (built_id, built_secret) = match self {
            Provider::Microsoft => (option_env!("PIPIT_MICROSOFT_CLIENT_ID"), None),
            Provider::Google => (
                option_env!("PIPIT_GOOGLE_CLIENT_ID"),
                option_env!("PIPIT_GOOGLE_CLIENT_SECRET"),
            ),
            Provider::Issuer(_) => (None, None),
        };
        let id = config
            .client_id
            .clone()
            .or(built_id.map(String::from))
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| SignInError::NoClientId {
                provider: self.name().to_string(),
            })?;
        let secret = config
            .client_secret
            .clone()
            .or(built_secret.map(String::from))
            .map(ClientSecret::new);
        Ok((ClientId::new(id), secret))
    }

    /// Where to sign in: the preset, or the issuer's published metadata.
    pub fn endpoints(&self, http: &Http, config: &OAuthConfig) -> Result<Endpoints, SignInError> {
        let mut endpoints = match self {
            Provider::Microsoft => Endpoints {
                authorize: Some(
                    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize".into(),
                ),
                token: "https://login.microsoftonline.com/common/oauth2/v2.0/token".into(),
                device: Some(
                    "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode".into(),
                ),
                scopes: vec![
                    "https://outlook.office.com/POP.AccessAsUser.All".into(),
                    "offline_access".into(),
                ],
                extra: Vec::new(),
            },
            Provider::Google => Endpoints {
                authorize: Some("https://accounts.google.com/o/oauth2/v2/auth".into()),
                token: "https://oauth2.googleapis.com/token".into(),
                device: Some("https://oauth2.googleapis.com/device/code".into()),
                scopes: vec!["https://mail.google.com/".into()],
                extra: vec![("access_type", "offline"), ("prompt", "consent")],
            },
            Provider::Issuer(issuer) => metadata(http, issuer)?,
        };
        if let Some(scope) = &config.scope {
            endpoints.scopes = scope.split_whitespace().map(String::from).collect();
        }
        Ok(endpoints)
    }
}

/// The metadata addresses of an issuer: RFC 8414's, then OpenID Connect's.
fn metadata_urls(issuer: &str) -> Vec<String> {
    let issuer = issuer.trim_end_matches('/');
    let (origin, path) = match issuer.find("://").map(|i| i + 3) {
        Some(start) => match issuer[start..].find('/') {
            Some(slash) => issuer.split_at(start + slash),
            None => (issuer, ""),
        },
        None => (issuer, ""),
    };
    vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{issuer}/.well-known/openid-configuration"),
    ]
}

/// Reads an issuer's metadata (RFC 8414), checking that it speaks for that
/// issuer and that every endpoint is HTTPS.
fn metadata(http: &Http, issuer: &str) -> Result<Endpoints, SignInError> {
    let mut last = None;
    for url in metadata_urls(issuer) {
        let doc = match http.get_json(&url) {
            Ok(doc) => doc,
            Err(e @ (SignInError::Metadata { .. } | SignInError::Unreachable { .. })) => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let bad = |problem: String| SignInError::Metadata {
            url: url.clone(),
            problem,
        };
        let field = |name: &str| doc.get(name).and_then(|v| v.as_str()).map(String::from);
        let said = field("issuer").unwrap_or_default();
        // RFC 8414: the issuer in the document is exactly the one asked for
        // (Pipit keeps issuers without a trailing slash).
        if said != issuer && said.strip_suffix('/') != Some(issuer) {
            return Err(bad(format!(
                "it speaks for the issuer {said:?}, not {issuer:?}"
            )));
        }
        let token = field("token_endpoint").ok_or_else(|| bad("no token_endpoint".into()))?;
        let authorize = field("authorization_endpoint");
        let device = field("device_authorization_endpoint");
        // An issuer on the network may not send codes and tokens to a port
        // of this computer (whatever program holds it).
        let issuer_local = checked(issuer).is_ok_and(|u| u.scheme() == "http");
        for url in std::iter::once(&token).chain(&authorize).chain(&device) {
            let endpoint = checked(url)?;
            if endpoint.scheme() == "http" && !issuer_local {
                return Err(SignInError::NotHttps { url: url.clone() });
            }
        }
        let offers = |scope: &str| {
            doc.get("scopes_supported")
                .and_then(|v| v.as_array())
                .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(scope)))
        };
        return Ok(Endpoints {
            authorize,
            token,
            device,
            scopes: if offers("offline_access") {
                vec!["offline_access".into()]
            } else {
                Vec::new()
            },
            extra: Vec::new(),
        });
    }
    Err(last.unwrap_or_else(|| SignInError::Metadata {
        url: issuer.into(),
        problem: "no metadata".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_looked_for_where_rfc_8414_says() {
        assert_eq!(
            metadata_urls("https://auth.example.org"),
            [
                "https://auth.example.org/.well-known/oauth-authorization-server",
                "https://auth.example.org/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            metadata_urls("https://example.org/tenant/1/"),
            [
                "https://example.org/.well-known/oauth-authorization-server/tenant/1",
                "https://example.org/tenant/1/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn providers_by_name_or_issuer() {
        assert_eq!(Provider::parse("Microsoft").unwrap(), Provider::Microsoft);
        assert_eq!(Provider::parse("gmail").unwrap(), Provider::Google);
        assert_eq!(
            Provider::parse("https://id.example.org/").unwrap(),
            Provider::Issuer("https://id.example.org".into())
        );
        assert!(matches!(
            Provider::parse("http://id.example.org"),
            Err(SignInError::NotHttps { .. })
        ));
        assert!(matches!(
            Provider::parse("yahoo"),
            Err(SignInError::UnknownProvider(_))
        ));
    }

    #[test]
    fn no_client_id_says_how_to_get_one() {
        let config = OAuthConfig {
            provider: "https://id.example.org".into(),
            client_id: None,
            client_secret: None,
            scope: None,
            key: String::new(),
        };
        let e = Provider::parse(&config.provider)
            .unwrap()
            .client(&config)
            .unwrap_err();
        assert!(e.to_string().contains("--client-id"), "{e}");
    }
}
