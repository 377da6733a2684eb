//! docker-compose.yml against the workspace (the schema check in scripts/check-deploy
//! covers its shape; this covers its meaning): every service built, migrated first,
//! health-checked, scraped and routed, and every `depends_on` resolvable.

use crate::services;
use deploy_check::{has_database, load_yaml};
use serde_json::Value;

fn compose() -> Value {
    load_yaml("docker-compose.yml").expect("docker-compose.yml parses")
}

#[test]
fn every_service_is_built_migrated_and_health_checked() {
    let c = compose();
    let all = &c["services"];
    let databases = all["postgres"]["environment"]["SERVICE_DATABASES"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    for svc in services() {
        let s = &all[&svc];
        assert!(s.is_object(), "compose: no service {svc}");
        assert_eq!(
            s["build"]["args"]["SERVICE"],
            svc.as_str(),
            "compose {svc}: build arg"
        );
        assert_eq!(
            s["build"]["dockerfile"], "deploy/Dockerfile",
            "compose {svc}"
        );
        assert_eq!(
            s["healthcheck"]["test"],
            serde_json::json!(["CMD", "/usr/local/bin/app", "healthcheck"]),
            "compose {svc}: health check"
        );
        assert_eq!(
            s["read_only"], true,
            "compose {svc}: writable root filesystem"
        );
        if has_database(&svc) {
            let migrate = &all[format!("{svc}-migrate")];
            assert_eq!(
                migrate["command"],
                serde_json::json!(["migrate"]),
                "compose {svc}-migrate"
            );
            assert_eq!(
                migrate["image"], s["image"],
                "compose {svc}-migrate: another image"
            );
            assert_eq!(
                migrate["environment"], s["environment"],
                "compose {svc}-migrate: other settings"
            );
            assert_eq!(
                s["depends_on"][format!("{svc}-migrate")]["condition"],
                "service_completed_successfully",
                "compose {svc}: serves before its migrations ran"
            );
            let url = s["environment"]["DATABASE_URL"]
                .as_str()
                .unwrap_or_default();
            assert!(
                url.ends_with(&format!("@postgres:5432/{svc}_db")),
                "compose {svc}: DATABASE_URL {url}"
            );
            assert!(
                databases.contains(&svc),
                "compose: postgres creates no database for {svc}"
            );
        }
    }
}

#[test]
fn depends_on_names_existing_services_with_matching_conditions() {
    let c = compose();
    let all = c["services"].as_object().expect("services");
    for (name, s) in all {
        let Some(deps) = s["depends_on"].as_object() else {
            continue;
        };
        for (dep, cond) in deps {
            let target = all
                .get(dep)
                .unwrap_or_else(|| panic!("compose {name}: depends on unknown {dep}"));
            match cond["condition"].as_str() {
                Some("service_healthy") => {
                    assert!(
                        target["healthcheck"].is_object(),
                        "compose {name}: waits for {dep} to be healthy, which has no health check"
                    )
                }
                Some("service_completed_successfully") => {
                    assert_eq!(
                        target["restart"], "no",
                        "compose {name}: waits for {dep} to finish, which restarts"
                    )
                }
                Some("service_started") => {}
                other => panic!("compose {name}: condition {other:?} on {dep}"),
            }
        }
    }
}

#[test]
fn only_the_gateway_publishes_an_api_port() {
    let c = compose();
    for svc in services() {
        let ports = &c["services"][&svc]["ports"];
        if svc == "gateway" {
            assert_eq!(
                ports,
                &serde_json::json!(["${GATEWAY_PORT:-8080}:8080"]),
                "compose gateway"
            );
        } else {
            assert!(ports.is_null(), "compose {svc}: published past the gateway");
        }
    }
}

#[test]
fn the_gateway_routes_to_every_built_service() {
    let c = compose();
    let env = &c["services"]["gateway"]["environment"];
    let routes: toml::Table = toml::from_str(
        &std::fs::read_to_string(deploy_check::root().join("services/gateway/routes.toml"))
            .unwrap(),
    )
    .unwrap();
    let built = services();
    for name in routes["upstreams"].as_table().expect("[upstreams]").keys() {
        let key = format!("GATEWAY_UPSTREAM_{}", name.to_uppercase());
        let expected = if built.contains(name) {
            format!("http://{name}:8080")
        } else {
            "off".into()
        };
        assert_eq!(env[&key], expected.as_str(), "compose gateway: {key}");
    }
}

#[test]
fn prometheus_scrapes_every_service() {
    let prom = load_yaml("deploy/prometheus/prometheus.yml").expect("prometheus.yml parses");
    let targets: Vec<String> = prom["scrape_configs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|job| {
            job["static_configs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|sc| sc["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    for svc in services() {
        assert!(
            targets.contains(&format!("{svc}:8080")),
            "prometheus does not scrape {svc}"
        );
    }
}

/// The provisioned dashboard shows what the issue asks operators to watch.
#[test]
fn the_dashboard_covers_traffic_errors_latency_backlog_and_lag() {
    let text = std::fs::read_to_string(
        deploy_check::root().join("deploy/grafana/dashboards/platform.json"),
    )
    .unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard is JSON");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    for metric in [
        "http_requests_total",
        "status=~\"5..\"",
        "http_request_duration_seconds_bucket",
        "outbox_backlog",
        "kafka_consumergroup_lag",
    ] {
        assert!(
            exprs.iter().any(|e| e.contains(metric)),
            "dashboard has no panel on {metric}"
        );
    }
}
