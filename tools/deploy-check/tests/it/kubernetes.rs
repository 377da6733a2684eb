//! Every service of the workspace has its Deployment (probes, limits, non-root, read-only
//! root filesystem, migrations first), Service, autoscaler, disruption budget and a
//! NetworkPolicy letting only the gateway and monitoring in, in every overlay; the data
//! stores (Kafka, PostgreSQL, Redis) let in only the platform's pods.

use crate::{overlays, services};
use deploy_check::{Manifests, has_database};
use serde_json::Value;

fn deployment<'a>(m: &'a Manifests, overlay: &str, svc: &str) -> &'a Value {
    m.get("Deployment", svc)
        .unwrap_or_else(|| panic!("{overlay}: no Deployment for service {svc}"))
}

fn app_container<'a>(d: &'a Value, ctx: &str) -> &'a Value {
    d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "app"))
        .unwrap_or_else(|| panic!("{ctx}: no container named app"))
}

fn assert_hardened(container: &Value, ctx: &str) {
    let sc = &container["securityContext"];
    assert_eq!(
        sc["readOnlyRootFilesystem"], true,
        "{ctx}: root filesystem writable"
    );
    assert_eq!(
        sc["allowPrivilegeEscalation"], false,
        "{ctx}: privilege escalation allowed"
    );
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{ctx}: capabilities kept"
    );
    for bound in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                container["resources"][bound][resource].is_string(),
                "{ctx}: no {bound}.{resource}"
            );
        }
    }
}

#[test]
fn every_service_has_a_hardened_deployment_with_probes() {
    for (overlay, m) in overlays() {
        for svc in services() {
            let d = deployment(m, overlay, &svc);
            let ctx = format!("{overlay} {svc}");
            let pod = &d["spec"]["template"]["spec"];
            assert_eq!(
                pod["securityContext"]["runAsNonRoot"], true,
                "{ctx}: may run as root"
            );
            assert_eq!(
                pod["automountServiceAccountToken"], false,
                "{ctx}: API token mounted"
            );
            assert_eq!(
                d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"],
                svc.as_str(),
                "{ctx}: pods not labelled with the service's name"
            );
            let app = app_container(d, &ctx);
            assert_hardened(app, &ctx);
            // The gateway's readiness lists every upstream: one sick service must not
            // take every gateway pod (the whole API) out of rotation.
            let readiness = if svc == "gateway" {
                "/health/live"
            } else {
                "/health/ready"
            };
            assert_eq!(
                app["readinessProbe"]["httpGet"]["path"], readiness,
                "{ctx}: readiness"
            );
            assert!(
                app["lifecycle"]["preStop"]["sleep"]["seconds"]
                    .as_u64()
                    .is_some_and(|s| s > 0),
                "{ctx}: no pause before SIGTERM for endpoints to drain"
            );
            assert_eq!(
                app["livenessProbe"]["httpGet"]["path"], "/health/live",
                "{ctx}: liveness"
            );
            assert_eq!(app["ports"][0]["containerPort"], 8080, "{ctx}: port");
            let image = app["image"].as_str().unwrap_or_default();
            let repository = image.split(':').next().unwrap_or_default();
            assert!(
                repository.ends_with(&format!("/{svc}")),
                "{ctx}: image {image} is not the service's own"
            );
            assert!(
                !image.contains("SERVICE"),
                "{ctx}: placeholder left in {image}"
            );

            let inits = pod["initContainers"].as_array();
            if has_database(&svc) {
                let migrate = inits
                    .and_then(|i| i.iter().find(|c| c["name"] == "migrate"))
                    .unwrap_or_else(|| panic!("{ctx}: no migrate init container"));
                assert_eq!(migrate["args"], serde_json::json!(["migrate"]), "{ctx}");
                assert_eq!(
                    migrate["image"], app["image"],
                    "{ctx}: migrations from another image"
                );
                assert_hardened(migrate, &format!("{ctx} migrate"));
                let db_secret = app["env"]
                    .as_array()
                    .and_then(|e| e.iter().find(|v| v["name"] == "DATABASE_PASSWORD"))
                    .map(|v| v["valueFrom"]["secretKeyRef"]["name"].clone());
                assert_eq!(
                    db_secret,
                    Some(Value::from(format!("{svc}-db"))),
                    "{ctx}: database secret"
                );
            } else {
                assert!(
                    inits.is_none(),
                    "{ctx}: has no database but an init container"
                );
            }
        }
    }
}

#[test]
fn every_service_has_its_service_autoscaler_and_budget() {
    for (overlay, m) in overlays() {
        for svc in services() {
            let ctx = format!("{overlay} {svc}");
            let s = m
                .get("Service", &svc)
                .unwrap_or_else(|| panic!("{ctx}: no Service"));
            assert_eq!(
                s["spec"]["selector"]["app.kubernetes.io/name"],
                svc.as_str(),
                "{ctx}"
            );
            assert_eq!(s["spec"]["ports"][0]["targetPort"], "http", "{ctx}");
            let hpa = m
                .get("HorizontalPodAutoscaler", &svc)
                .unwrap_or_else(|| panic!("{ctx}: no HorizontalPodAutoscaler"));
            assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], svc.as_str(), "{ctx}");
            let d = m.get("Deployment", &svc).expect("deployment");
            assert!(
                d["spec"]["replicas"].is_null(),
                "{ctx}: the Deployment sets replicas, which every apply would reset under the autoscaler"
            );
            let pdb = m
                .get("PodDisruptionBudget", &svc)
                .unwrap_or_else(|| panic!("{ctx}: no PodDisruptionBudget"));
            assert_eq!(
                pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
                svc.as_str()
            );
            let config = m
                .config_map(&format!("{svc}-config"))
                .unwrap_or_else(|| panic!("{ctx}: no {svc}-config ConfigMap"));
            assert_eq!(config["data"]["OTEL_SERVICE_NAME"], svc.as_str(), "{ctx}");
        }
    }
}

/// What may reach a service's HTTP port: the gateway, monitoring, and (auth only, for
/// its public keys) the platform's pods. The gateway itself is open.
#[test]
fn network_policies_let_only_the_gateway_and_monitoring_in() {
    for (overlay, m) in overlays() {
        for svc in services() {
            let ctx = format!("{overlay} {svc}");
            let np = m
                .get("NetworkPolicy", &svc)
                .unwrap_or_else(|| panic!("{ctx}: no NetworkPolicy"));
            assert_eq!(
                np["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
                svc.as_str(),
                "{ctx}"
            );
            let rules = np["spec"]["ingress"].as_array().expect("ingress rules");
            assert_eq!(rules.len(), 1, "{ctx}: one rule");
            assert_eq!(
                rules[0]["ports"],
                serde_json::json!([{"port": "http", "protocol": "TCP"}]),
                "{ctx}"
            );
            if svc == "gateway" {
                assert!(
                    rules[0]["from"].is_null(),
                    "{ctx}: the entry must stay reachable"
                );
                continue;
            }
            assert_eq!(
                rules[0]["from"],
                serde_json::json!([
                    {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
                ]),
                "{ctx}: HTTP port open to more than the gateway and monitoring"
            );
        }
        // Every other policy selecting a service's pods widens access on purpose.
        for np in m.of_kind("NetworkPolicy") {
            let name = np["metadata"]["name"].as_str().unwrap_or_default();
            let selects = &np["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"];
            if services().iter().any(|s| selects == s.as_str()) && selects != name {
                assert_eq!(
                    name, "auth-from-platform",
                    "{overlay}: unexpected policy {name}"
                );
            }
        }
    }
}

#[test]
fn the_gateway_routes_to_every_service_and_switches_off_the_others() {
    let routes: toml::Table = toml::from_str(
        &std::fs::read_to_string(deploy_check::root().join("services/gateway/routes.toml"))
            .unwrap(),
    )
    .unwrap();
    let upstreams = routes["upstreams"].as_table().expect("[upstreams]");
    let built = services();
    for (overlay, m) in overlays() {
        let config = m.config_map("gateway-config").expect("gateway-config");
        for name in upstreams.keys() {
            let key = format!("GATEWAY_UPSTREAM_{}", name.to_uppercase());
            let expected = if built.contains(name) {
                format!("http://{name}")
            } else {
                "off".into()
            };
            assert_eq!(config["data"][&key], expected.as_str(), "{overlay}: {key}");
        }
    }
}

#[test]
fn the_gateway_is_reachable_through_gateway_api_or_ingress() {
    for (overlay, m) in overlays() {
        let by_route = m.of_kind("HTTPRoute").any(|r| {
            r["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|rule| {
                    rule["backendRefs"][0]["name"] == "gateway"
                        && rule["backendRefs"][0]["port"] == 80
                })
        });
        let by_ingress = m.of_kind("Ingress").any(|i| {
            i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "gateway"
        });
        assert!(
            by_route || by_ingress,
            "{overlay}: clients cannot reach the gateway"
        );
    }
}

#[test]
fn no_placeholder_survives_rendering() {
    for (overlay, m) in overlays() {
        // A value that is, or starts with, the placeholder (a name, a label, an image).
        let text = serde_json::to_string(&m.0).unwrap();
        assert!(
            !text.contains("\"SERVICE\"") && !text.contains("\"SERVICE-"),
            "{overlay}: a SERVICE placeholder was not replaced"
        );
    }
}

/// A service the dev overlay gives a Secret needs it: in every overlay the reference is
/// required, so a missing Secret stops the pod visibly instead of starting it on defaults.
#[test]
fn services_with_secrets_require_them() {
    let (_, dev) = &overlays()[0];
    for svc in services() {
        let prefix = format!("{svc}-secrets-");
        let has_secrets = dev.of_kind("Secret").any(|s| {
            s["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(&prefix))
        });
        for (overlay, m) in overlays() {
            let d = deployment(m, overlay, &svc);
            let app = app_container(d, &svc);
            let secret_ref = app["envFrom"]
                .as_array()
                .and_then(|e| e.iter().find(|r| r["secretRef"].is_object()))
                .map(|r| &r["secretRef"])
                .unwrap_or_else(|| panic!("{overlay} {svc}: no secretRef"));
            assert_eq!(
                secret_ref["optional"],
                !has_secrets,
                "{overlay} {svc}: secrets {} but the reference says optional={}",
                if has_secrets { "exist" } else { "do not exist" },
                secret_ref["optional"]
            );
        }
    }
}

/// The platform's own pods, as the data stores' policies name them.
fn platform_pods() -> Value {
    serde_json::json!({"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "neighbourly"}}})
}

/// The policies whose pod selector holds `label: value`.
fn policies_selecting<'a>(m: &'a Manifests, label: &str, value: &str) -> Vec<&'a Value> {
    m.of_kind("NetworkPolicy")
        .filter(|np| np["spec"]["podSelector"]["matchLabels"][label] == value)
        .collect()
}

/// Each rule names who it lets in (no rule without `from` opens a port to every pod of
/// the cluster) and no peer is an address range (which would reach past the pod labels).
fn assert_closed_rules(np: &Value, ctx: &str) {
    assert!(
        np["spec"]["policyTypes"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "Ingress")),
        "{ctx}: not an ingress policy"
    );
    for rule in np["spec"]["ingress"].as_array().into_iter().flatten() {
        let from = rule["from"].as_array().filter(|f| !f.is_empty());
        let from = from.unwrap_or_else(|| panic!("{ctx}: a rule lets every pod in"));
        assert!(
            from.iter().all(|p| p["ipBlock"].is_null()),
            "{ctx}: an address range reaches the store"
        );
        assert!(rule["ports"].is_array(), "{ctx}: a rule opens every port");
    }
}

/// The peers a policy lets reach `port`.
fn peers_on_port(np: &Value, port: u64) -> Vec<Value> {
    np["spec"]["ingress"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["ports"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["port"] == port))
        })
        .flat_map(|r| r["from"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn data_stores_admit_only_the_platforms_pods() {
    for (overlay, m) in overlays() {
        // The services must carry the label the stores let in.
        for svc in services() {
            let labels = &deployment(m, overlay, &svc)["spec"]["template"]["metadata"]["labels"];
            assert_eq!(
                labels["app.kubernetes.io/part-of"], "neighbourly",
                "{overlay} {svc}: pods the data stores do not let in"
            );
        }

        // Kafka: Strimzi writes the brokers' policy from each listener's peers.
        let kafka = m.get("Kafka", "neighbourly").expect("Kafka");
        for listener in kafka["spec"]["kafka"]["listeners"]
            .as_array()
            .expect("listeners")
        {
            assert_eq!(
                listener["networkPolicyPeers"],
                serde_json::json!([platform_pods()]),
                "{overlay}: Kafka listener {} open beyond the platform's pods",
                listener["name"]
            );
        }

        // PostgreSQL: the platform's pods, the cluster's own instances and the operator.
        let cluster = m.get("Cluster", "postgres").expect("CNPG Cluster");
        let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
        let pg = policies_selecting(m, "cnpg.io/cluster", name);
        assert!(!pg.is_empty(), "{overlay}: nothing guards PostgreSQL");
        let own = serde_json::json!({"podSelector": {"matchLabels": {"cnpg.io/cluster": name}}});
        for np in &pg {
            assert_closed_rules(np, &format!("{overlay} postgres"));
            for peer in peers_on_port(np, 5432) {
                let operator = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    == "cnpg-system"
                    && !peer["podSelector"].is_null();
                assert!(
                    peer == platform_pods() || peer == own || operator,
                    "{overlay}: PostgreSQL reachable from {peer}"
                );
            }
        }

        // Redis: the platform's pods only.
        let redis = policies_selecting(m, "app.kubernetes.io/name", "redis");
        assert!(!redis.is_empty(), "{overlay}: nothing guards Redis");
        for np in redis {
            assert_closed_rules(np, &format!("{overlay} redis"));
            for rule in np["spec"]["ingress"].as_array().into_iter().flatten() {
                assert_eq!(
                    rule["from"],
                    serde_json::json!([platform_pods()]),
                    "{overlay}: Redis reachable from more than the platform"
                );
            }
        }
    }
}
