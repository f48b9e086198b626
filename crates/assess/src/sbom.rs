//! SBOM parsing: CycloneDX JSON (1.2–1.6) and SPDX 2.x JSON into one plain
//! model, [`Sbom`] with its [`Component`]s.
//!
//! **Why hand-written serde structs** rather than `cyclonedx-bom`/`spdx-rs`:
//! an SBOM is a vendor's document and hostile input. We need only a dozen
//! fields, must accept every spec version the vendors ship (cyclonedx-bom
//! stops at 1.5) and must bound every string and list we keep
//! ([`advisory::bounded`]), so a 500 MB `name` or a million components is an
//! error naming the JSON path, not an allocation. Unknown fields are skipped
//! (serde_json skips them without copying), so newer spec versions still load.
//! Only the fields the checks need are read: name, version, supplier /
//! publisher / author / group, purl, CPE, whether hashes and licenses are
//! present, properties (end-of-support hints), and the dependency graph size.

use advisory::bounded::{List, Str, MANY, NAME, SHORT};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// Most components kept after flattening nested CycloneDX components.
pub const MAX_COMPONENTS: usize = 100_000;
/// Most properties read per component.
const PROPS: usize = 256;

/// Which SBOM format a document is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "format", content = "version", rename_all = "lowercase")]
pub enum SbomFormat {
    /// CycloneDX JSON, with its `specVersion`.
    CycloneDx(String),
    /// SPDX JSON, with its `spdxVersion`.
    Spdx(String),
}

impl std::fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SbomFormat::CycloneDx(v) => write!(f, "CycloneDX {v}"),
            SbomFormat::Spdx(v) => write!(f, "{v}"),
        }
    }
}

/// Document-level metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// Creation time as written.
    pub timestamp: Option<String>,
    /// Authors (CycloneDX `metadata.authors`, SPDX `Person:`/`Organization:` creators).
    pub authors: Vec<String>,
    /// Tools that produced the SBOM.
    pub tools: Vec<String>,
    /// The product the SBOM describes (CycloneDX `metadata.component`, SPDX document name).
    pub subject: Option<String>,
    /// Its supplier or manufacturer, when stated.
    pub supplier: Option<String>,
}

/// One component, reduced to what the checks need.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Component {
    /// Name.
    pub name: String,
    /// Version (empty strings become `None`).
    pub version: Option<String>,
    /// Supplier, publisher, author or group (the first one given).
    pub supplier: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// CPE 2.2 or 2.3 name.
    pub cpe: Option<String>,
    /// Whether any hash is given.
    pub has_hashes: bool,
    /// Whether any license is given.
    pub has_licenses: bool,
    /// CycloneDX `type` / SPDX `primaryPackagePurpose`.
    pub kind: Option<String>,
    /// Properties (name, value), e.g. `End-of-Support`.
    pub properties: Vec<(String, String)>,
}

impl Component {
    /// `name version` for reports.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A parsed SBOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sbom {
    /// Format and spec version.
    pub format: SbomFormat,
    /// Metadata.
    pub metadata: Metadata,
    /// Components (nested CycloneDX components flattened).
    pub components: Vec<Component>,
    /// Dependency edges (CycloneDX `dependsOn` entries, SPDX relationships other than DESCRIBES).
    pub dependency_edges: usize,
}

fn opt(s: Option<Str<NAME>>) -> Option<String> {
    s.map(|s| s.0.trim().to_string()).filter(|s| !s.is_empty())
}

fn opt_short(s: Option<Str<SHORT>>) -> Option<String> {
    s.map(|s| s.0.trim().to_string()).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------- CycloneDX

#[derive(Deserialize)]
struct CdxBom {
    #[serde(rename = "bomFormat")]
    bom_format: Str<SHORT>,
    #[serde(rename = "specVersion")]
    spec_version: Str<SHORT>,
    #[serde(default)]
    metadata: Option<CdxMeta>,
    #[serde(default)]
    components: Option<List<CdxComponent, MANY>>,
    #[serde(default)]
    dependencies: Option<List<CdxDependency, MANY>>,
}

#[derive(Deserialize)]
struct CdxMeta {
    #[serde(default)]
    timestamp: Option<Str<SHORT>>,
    #[serde(default)]
    authors: Option<List<CdxContact, 1000>>,
    #[serde(default)]
    tools: Option<CdxTools>,
    #[serde(default)]
    component: Option<CdxComponent>,
    #[serde(default)]
    supplier: Option<CdxOrg>,
    #[serde(default)]
    manufacture: Option<CdxOrg>,
    #[serde(default)]
    manufacturer: Option<CdxOrg>,
}

/// `tools` is a list of `{vendor, name, version}` up to 1.4 and an object
/// `{components, services}` from 1.5 on (the list is still allowed).
#[derive(Deserialize)]
#[serde(untagged)]
enum CdxTools {
    List(List<CdxTool, 1000>),
    Object {
        #[serde(default)]
        components: Option<List<CdxTool, 1000>>,
        #[serde(default)]
        services: Option<List<CdxTool, 1000>>,
    },
}

#[derive(Deserialize)]
struct CdxTool {
    #[serde(default)]
    vendor: Option<Str<NAME>>,
    #[serde(default)]
    name: Option<Str<NAME>>,
    #[serde(default)]
    version: Option<Str<SHORT>>,
}

#[derive(Deserialize)]
struct CdxContact {
    #[serde(default)]
    name: Option<Str<NAME>>,
    #[serde(default)]
    email: Option<Str<NAME>>,
}

#[derive(Deserialize)]
struct CdxOrg {
    #[serde(default)]
    name: Option<Str<NAME>>,
}

#[derive(Deserialize)]
struct CdxProperty {
    #[serde(default)]
    name: Option<Str<NAME>>,
    #[serde(default)]
    value: Option<Str<NAME>>,
}

#[derive(Deserialize)]
struct CdxComponent {
    #[serde(default, rename = "type")]
    kind: Option<Str<SHORT>>,
    #[serde(default)]
    name: Option<Str<NAME>>,
    #[serde(default)]
    version: Option<Str<SHORT>>,
    #[serde(default)]
    group: Option<Str<NAME>>,
    #[serde(default)]
    publisher: Option<Str<NAME>>,
    #[serde(default)]
    author: Option<Str<NAME>>,
    #[serde(default)]
    supplier: Option<CdxOrg>,
    #[serde(default)]
    manufacturer: Option<CdxOrg>,
    #[serde(default)]
    purl: Option<Str<NAME>>,
    #[serde(default)]
    cpe: Option<Str<NAME>>,
    #[serde(default)]
    hashes: Option<List<IgnoredAny, 1000>>,
    #[serde(default)]
    licenses: Option<List<IgnoredAny, 1000>>,
    #[serde(default)]
    properties: Option<List<CdxProperty, PROPS>>,
    #[serde(default)]
    components: Option<List<CdxComponent, MANY>>,
}

#[derive(Deserialize)]
struct CdxDependency {
    #[serde(default, rename = "dependsOn")]
    depends_on: Option<List<IgnoredAny, MANY>>,
}

fn cdx_component(c: CdxComponent) -> (Component, Vec<CdxComponent>) {
    let org = |o: Option<CdxOrg>| o.and_then(|o| opt(o.name));
    let supplier = org(c.supplier)
        .or(org(c.manufacturer))
        .or(opt(c.publisher))
        .or(opt(c.author))
        .or(opt(c.group));
    let comp = Component {
        name: opt(c.name).unwrap_or_default(),
        version: opt_short(c.version),
        supplier,
        purl: opt(c.purl),
        cpe: opt(c.cpe),
        has_hashes: c.hashes.is_some_and(|h| !h.0.is_empty()),
        has_licenses: c.licenses.is_some_and(|l| !l.0.is_empty()),
        kind: opt_short(c.kind),
        properties: c
            .properties
            .map(|p| {
                p.0.into_iter()
                    .filter_map(|p| Some((opt(p.name)?, opt(p.value).unwrap_or_default())))
                    .collect()
            })
            .unwrap_or_default(),
    };
    (comp, c.components.map(|c| c.0).unwrap_or_default())
}

fn tool_label(t: CdxTool) -> Option<String> {
    let parts: Vec<String> = [opt(t.vendor), opt(t.name), opt_short(t.version)]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn parse_cyclonedx(bytes: &[u8]) -> Result<Sbom, String> {
    let bom: CdxBom = advisory::bounded::from_json(bytes)?;
    if !bom.bom_format.0.eq_ignore_ascii_case("CycloneDX") {
        return Err(format!(
            "bomFormat: {:?} is not \"CycloneDX\"",
            bom.bom_format.0
        ));
    }
    let mut metadata = Metadata::default();
    if let Some(m) = bom.metadata {
        metadata.timestamp = opt_short(m.timestamp);
        metadata.authors = m
            .authors
            .map(|a| {
                a.0.into_iter()
                    .filter_map(|a| opt(a.name).or(opt(a.email)))
                    .collect()
            })
            .unwrap_or_default();
        metadata.tools = match m.tools {
            None => Vec::new(),
            Some(CdxTools::List(l)) => l.0.into_iter().filter_map(tool_label).collect(),
            Some(CdxTools::Object {
                components,
                services,
            }) => components
                .into_iter()
                .chain(services)
                .flat_map(|l| l.0)
                .filter_map(tool_label)
                .collect(),
        };
        let org = |o: Option<CdxOrg>| o.and_then(|o| opt(o.name));
        metadata.supplier = org(m.supplier)
            .or(org(m.manufacturer))
            .or(org(m.manufacture));
        if let Some(c) = m.component {
            let (c, _) = cdx_component(c);
            metadata.subject = Some(c.label()).filter(|s| !s.is_empty());
            if metadata.supplier.is_none() {
                metadata.supplier = c.supplier;
            }
        }
    }
    // Flatten nested components iteratively (nesting depth is already bounded
    // by serde_json's recursion limit; the total by MAX_COMPONENTS).
    let mut components = Vec::new();
    let mut todo: Vec<CdxComponent> = bom.components.map(|c| c.0).unwrap_or_default();
    todo.reverse();
    while let Some(c) = todo.pop() {
        if components.len() == MAX_COMPONENTS {
            return Err(format!(
                "components: more than {MAX_COMPONENTS} components (nested included)"
            ));
        }
        let (comp, mut nested) = cdx_component(c);
        components.push(comp);
        nested.reverse();
        todo.extend(nested);
    }
    let dependency_edges = bom
        .dependencies
        .map(|d| {
            d.0.iter()
                .map(|d| d.depends_on.as_ref().map_or(0, |x| x.0.len()))
                .sum()
        })
        .unwrap_or(0);
    Ok(Sbom {
        format: SbomFormat::CycloneDx(bom.spec_version.0),
        metadata,
        components,
        dependency_edges,
    })
}

// ---------------------------------------------------------------- SPDX 2.x

#[derive(Deserialize)]
struct SpdxDoc {
    #[serde(rename = "spdxVersion")]
    spdx_version: Str<SHORT>,
    #[serde(default)]
    name: Option<Str<NAME>>,
    #[serde(default, rename = "creationInfo")]
    creation_info: Option<SpdxCreation>,
    #[serde(default)]
    packages: Option<List<SpdxPackage, MANY>>,
    #[serde(default)]
    relationships: Option<List<SpdxRelationship, MANY>>,
}

#[derive(Deserialize)]
struct SpdxCreation {
    #[serde(default)]
    created: Option<Str<SHORT>>,
    #[serde(default)]
    creators: Option<List<Str<NAME>, 1000>>,
}

#[derive(Deserialize)]
struct SpdxPackage {
    #[serde(default)]
    name: Option<Str<NAME>>,
    #[serde(default, rename = "versionInfo")]
    version_info: Option<Str<SHORT>>,
    #[serde(default)]
    supplier: Option<Str<NAME>>,
    #[serde(default)]
    originator: Option<Str<NAME>>,
    #[serde(default)]
    checksums: Option<List<IgnoredAny, 1000>>,
    #[serde(default, rename = "licenseConcluded")]
    license_concluded: Option<Str<NAME>>,
    #[serde(default, rename = "licenseDeclared")]
    license_declared: Option<Str<NAME>>,
    #[serde(default, rename = "externalRefs")]
    external_refs: Option<List<SpdxRef, 1000>>,
    #[serde(default, rename = "primaryPackagePurpose")]
    purpose: Option<Str<SHORT>>,
}

#[derive(Deserialize)]
struct SpdxRef {
    #[serde(default, rename = "referenceType")]
    reference_type: Option<Str<SHORT>>,
    #[serde(default, rename = "referenceLocator")]
    reference_locator: Option<Str<NAME>>,
}

#[derive(Deserialize)]
struct SpdxRelationship {
    #[serde(default, rename = "relationshipType")]
    relationship_type: Option<Str<SHORT>>,
}

/// SPDX writes "NOASSERTION" and "NONE" for unknown values.
fn spdx_value(s: Option<Str<NAME>>) -> Option<String> {
    opt(s).filter(|s| s != "NOASSERTION" && s != "NONE")
}

/// "Organization: ACME (contact)" → "ACME".
fn spdx_party(s: &str) -> String {
    let s = s.split_once(':').map_or(s, |(_, r)| r).trim();
    s.split(" (").next().unwrap_or(s).trim().to_string()
}

fn parse_spdx(bytes: &[u8]) -> Result<Sbom, String> {
    let doc: SpdxDoc = advisory::bounded::from_json(bytes)?;
    let version = doc.spdx_version.0;
    if !version.starts_with("SPDX-2.") {
        return Err(format!("spdxVersion: {version:?} is not SPDX 2.x"));
    }
    let mut metadata = Metadata {
        subject: opt(doc.name),
        ..Metadata::default()
    };
    if let Some(ci) = doc.creation_info {
        metadata.timestamp = opt_short(ci.created);
        for c in ci.creators.map(|c| c.0).unwrap_or_default() {
            let c = c.0.trim().to_string();
            if c.starts_with("Tool:") {
                metadata.tools.push(spdx_party(&c));
            } else if !c.is_empty() {
                metadata.authors.push(spdx_party(&c));
            }
        }
    }
    let mut components = Vec::new();
    for p in doc.packages.map(|p| p.0).unwrap_or_default() {
        let (mut purl, mut cpe) = (None, None);
        for r in p.external_refs.map(|r| r.0).unwrap_or_default() {
            let (Some(t), Some(l)) = (opt_short(r.reference_type), opt(r.reference_locator)) else {
                continue;
            };
            match t.as_str() {
                "purl" if purl.is_none() => purl = Some(l),
                "cpe23Type" | "cpe22Type" if cpe.is_none() => cpe = Some(l),
                _ => {}
            }
        }
        let licensed =
            spdx_value(p.license_concluded).is_some() | spdx_value(p.license_declared).is_some();
        components.push(Component {
            name: opt(p.name).unwrap_or_default(),
            version: opt_short(p.version_info),
            supplier: spdx_value(p.supplier)
                .or(spdx_value(p.originator))
                .map(|s| spdx_party(&s))
                .filter(|s| !s.is_empty()),
            purl,
            cpe,
            has_hashes: p.checksums.is_some_and(|c| !c.0.is_empty()),
            has_licenses: licensed,
            kind: opt_short(p.purpose),
            properties: Vec::new(),
        });
    }
    let dependency_edges = doc
        .relationships
        .map(|r| {
            r.0.iter()
                .filter(|r| {
                    r.relationship_type
                        .as_ref()
                        .is_some_and(|t| t.0 != "DESCRIBES" && t.0 != "DESCRIBED_BY")
                })
                .count()
        })
        .unwrap_or(0);
    Ok(Sbom {
        format: SbomFormat::Spdx(version),
        metadata,
        components,
        dependency_edges,
    })
}

/// Top-level keys that tell CycloneDX from SPDX.
#[derive(Deserialize)]
struct Sniff {
    #[serde(default, rename = "bomFormat")]
    bom_format: Option<IgnoredAny>,
    #[serde(default, rename = "specVersion")]
    spec_version: Option<IgnoredAny>,
    #[serde(default, rename = "spdxVersion")]
    spdx_version: Option<IgnoredAny>,
}

/// What a JSON document is, by its top-level keys.
pub(crate) enum JsonKind {
    CycloneDx,
    Spdx,
    Other,
}

/// Looks at the top-level keys; `Err` for JSON that does not parse.
pub(crate) fn sniff(bytes: &[u8]) -> Result<JsonKind, String> {
    match serde_json::from_slice::<Sniff>(bytes) {
        Ok(s) if s.bom_format.is_some() || s.spec_version.is_some() => Ok(JsonKind::CycloneDx),
        Ok(s) if s.spdx_version.is_some() => Ok(JsonKind::Spdx),
        Ok(_) => Ok(JsonKind::Other),
        Err(e) if e.is_syntax() || e.is_eof() => Err(format!("invalid JSON: {e}")),
        Err(_) => Ok(JsonKind::Other),
    }
}

/// Parses a CycloneDX or SPDX JSON SBOM; the error names the JSON path.
pub(crate) fn parse(kind: JsonKind, bytes: &[u8]) -> Result<Sbom, String> {
    match kind {
        JsonKind::CycloneDx => parse_cyclonedx(bytes),
        JsonKind::Spdx => parse_spdx(bytes),
        JsonKind::Other => Err("not a CycloneDX or SPDX SBOM".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdx(s: &str) -> Result<Sbom, String> {
        parse(sniff(s.as_bytes())?, s.as_bytes())
    }

    #[test]
    fn cyclonedx_fields_nesting_and_tools_forms() {
        let s = cdx(r#"{"bomFormat":"CycloneDX","specVersion":"1.6",
            "metadata":{"timestamp":"2024-01-01T00:00:00Z","tools":{"components":[{"name":"syft","version":"1.0"}]},
                        "component":{"name":"Pump","version":"2"},"manufacturer":{"name":"ACME"}},
            "components":[{"type":"library","name":"openssl","version":"1.0.2k","purl":"pkg:generic/openssl@1.0.2k",
                           "hashes":[{"alg":"SHA-256","content":"00"}],"licenses":[{"license":{"id":"OpenSSL"}}],
                           "components":[{"name":"inner","group":"org.x"}]},
                          {"name":"zlib","version":"","supplier":{"name":"Zlib"},"future_field":{"a":[1,2]}}],
            "dependencies":[{"ref":"a","dependsOn":["b","c"]},{"ref":"b"}]}"#)
        .unwrap();
        assert_eq!(s.format, SbomFormat::CycloneDx("1.6".into()));
        assert_eq!(s.metadata.tools, vec!["syft 1.0"]);
        assert_eq!(s.metadata.subject.as_deref(), Some("Pump 2"));
        assert_eq!(s.metadata.supplier.as_deref(), Some("ACME"));
        let names: Vec<_> = s.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["openssl", "inner", "zlib"]);
        assert!(s.components[0].has_hashes && s.components[0].has_licenses);
        assert_eq!(s.components[1].supplier.as_deref(), Some("org.x"));
        assert_eq!(s.components[2].version, None);
        assert_eq!(s.dependency_edges, 2);
        let s = cdx(r#"{"bomFormat":"CycloneDX","specVersion":"1.4","metadata":{"tools":[{"vendor":"CycloneDX","name":"cli"}]}}"#).unwrap();
        assert_eq!(s.metadata.tools, vec!["CycloneDX cli"]);
    }

    #[test]
    fn spdx_packages() {
        let s = cdx(r#"{"spdxVersion":"SPDX-2.3","name":"device-fw","creationInfo":{"created":"2024-01-01T00:00:00Z",
            "creators":["Tool: syft-1.0","Organization: ACME Corp (security@acme)"]},
            "packages":[{"SPDXID":"SPDXRef-1","name":"busybox","versionInfo":"1.36.1","supplier":"Organization: BusyBox",
               "checksums":[{"algorithm":"SHA1","checksumValue":"aa"}],"licenseConcluded":"GPL-2.0-only",
               "externalRefs":[{"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*"},
                               {"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:generic/busybox@1.36.1"}]},
               {"name":"blob","supplier":"NOASSERTION","licenseConcluded":"NOASSERTION"}],
            "relationships":[{"relationshipType":"DESCRIBES"},{"relationshipType":"DEPENDS_ON"}]}"#)
        .unwrap();
        assert_eq!(s.format.to_string(), "SPDX-2.3");
        assert_eq!(s.metadata.tools, vec!["syft-1.0"]);
        assert_eq!(s.metadata.authors, vec!["ACME Corp"]);
        let b = &s.components[0];
        assert_eq!(
            (b.supplier.as_deref(), b.has_hashes, b.has_licenses),
            (Some("BusyBox"), true, true)
        );
        assert!(b.cpe.as_deref().unwrap().starts_with("cpe:2.3:a:busybox") && b.purl.is_some());
        let blob = &s.components[1];
        assert_eq!(
            (
                blob.supplier.as_deref(),
                blob.has_licenses,
                blob.version.as_deref()
            ),
            (None, false, None)
        );
        assert_eq!(s.dependency_edges, 1);
    }

    #[test]
    fn hostile_input_is_an_error_with_a_path() {
        let e = cdx(r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":5}]}"#)
            .unwrap_err();
        assert!(
            e.starts_with("components[0].name: invalid type: integer `5`"),
            "{e}"
        );
        let long = "x".repeat(NAME + 1);
        let e = cdx(&format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{{"name":"{long}"}}]}}"#
        ))
        .unwrap_err();
        assert!(
            e.starts_with("components[0].name: string of 2049 bytes is longer than the limit"),
            "{e}"
        );
        let e =
            cdx(r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"na"#).unwrap_err();
        assert!(e.starts_with("invalid JSON: EOF"), "{e}");
        let e = cdx(r#"{"bomFormat":"SPDX","specVersion":"1.5"}"#).unwrap_err();
        assert!(e.starts_with("bomFormat:"), "{e}");
        let e = cdx(r#"{"spdxVersion":"SPDX-3.0"}"#).unwrap_err();
        assert!(e.contains("not SPDX 2.x"), "{e}");
    }
}
