//! Strimzi and CloudNativePG resources have no schema package in the registries this
//! project builds from (docs/operations.md says so), so these tests check the fields the
//! platform relies on: KRaft with node pools, the listener the services connect to, the
//! operators that manage topics and users, one role and database per service with the
//! Secret the service reads.

use crate::{overlays, services};
use deploy_check::has_database;

#[test]
fn kafka_runs_in_kraft_mode_with_the_listener_the_services_use() {
    for (overlay, m) in overlays() {
        let kafka = m
            .get("Kafka", "neighbourly")
            .unwrap_or_else(|| panic!("{overlay}: no Kafka"));
        assert_eq!(kafka["apiVersion"], "kafka.strimzi.io/v1beta2");
        assert!(
            kafka["spec"]["zookeeper"].is_null(),
            "{overlay}: ZooKeeper configured"
        );
        assert_eq!(
            kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"], false,
            "{overlay}"
        );
        assert!(
            kafka["spec"]["entityOperator"]["topicOperator"].is_object(),
            "{overlay}: no topic operator"
        );
        assert!(
            kafka["spec"]["kafkaExporter"].is_object(),
            "{overlay}: no lag exporter for the dashboards"
        );

        let listener = kafka["spec"]["kafka"]["listeners"]
            .as_array()
            .and_then(|ls| ls.iter().find(|l| l["type"] == "internal"))
            .unwrap_or_else(|| panic!("{overlay}: no internal listener"));
        let platform = m.config_map("platform").expect("platform ConfigMap");
        // Strimzi names the bootstrap Service <cluster>-kafka-bootstrap.
        assert_eq!(
            platform["data"]["KAFKA_BOOTSTRAP_SERVERS"],
            format!("neighbourly-kafka-bootstrap:{}", listener["port"]).as_str(),
            "{overlay}: services connect elsewhere than the listener"
        );

        let pools: Vec<_> = m.of_kind("KafkaNodePool").collect();
        assert!(!pools.is_empty(), "{overlay}: no KafkaNodePool");
        for role in ["controller", "broker"] {
            assert!(
                pools.iter().any(|p| p["spec"]["roles"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|x| x == role))),
                "{overlay}: no node pool with the {role} role"
            );
        }
        for p in pools {
            assert_eq!(
                p["metadata"]["labels"]["strimzi.io/cluster"], "neighbourly",
                "{overlay}"
            );
            assert!(
                p["spec"]["storage"]["type"].is_string(),
                "{overlay}: node pool without storage"
            );
        }
    }
}

#[test]
fn postgres_has_a_role_and_database_per_service() {
    for (overlay, m) in overlays() {
        let cluster = m
            .get("Cluster", "postgres")
            .unwrap_or_else(|| panic!("{overlay}: no CNPG Cluster"));
        assert_eq!(cluster["apiVersion"], "postgresql.cnpg.io/v1");
        assert!(
            cluster["spec"]["instances"]
                .as_u64()
                .is_some_and(|n| n >= 1),
            "{overlay}"
        );
        assert!(
            cluster["spec"]["storage"]["size"].is_string(),
            "{overlay}: no storage"
        );
        let platform = m.config_map("platform").expect("platform ConfigMap");
        // CloudNativePG's read-write Service is <cluster>-rw.
        assert_eq!(
            platform["data"]["DATABASE_HOST"], "postgres-rw",
            "{overlay}"
        );
        let roles = cluster["spec"]["managed"]["roles"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for svc in services().into_iter().filter(|s| has_database(s)) {
            let ctx = format!("{overlay} {svc}");
            let role = roles
                .iter()
                .find(|r| r["name"] == svc.as_str())
                .unwrap_or_else(|| panic!("{ctx}: no managed role"));
            assert_eq!(role["login"], true, "{ctx}");
            assert_eq!(role["ensure"], "present", "{ctx}");
            assert_eq!(
                role["passwordSecret"]["name"],
                format!("{svc}-db").as_str(),
                "{ctx}"
            );
            let db = m
                .get("Database", &format!("{svc}-db"))
                .unwrap_or_else(|| panic!("{ctx}: no Database"));
            assert_eq!(db["apiVersion"], "postgresql.cnpg.io/v1");
            assert_eq!(db["spec"]["name"], format!("{svc}_db").as_str(), "{ctx}");
            assert_eq!(db["spec"]["owner"], svc.as_str(), "{ctx}");
            assert_eq!(db["spec"]["cluster"]["name"], "postgres", "{ctx}");
            let config = m
                .config_map(&format!("{svc}-config"))
                .expect("service config");
            assert_eq!(
                config["data"]["DATABASE_NAME"],
                format!("{svc}_db").as_str(),
                "{ctx}"
            );
        }
    }
}

/// The dev overlay generates the database Secrets; their names must stay fixed, because
/// CloudNativePG reads them by name (kustomize cannot rewrite a custom resource's refs).
#[test]
fn database_secrets_keep_the_names_the_operator_reads() {
    let (_, dev) = &overlays()[0];
    for svc in services().into_iter().filter(|s| has_database(s)) {
        let secret = dev
            .get("Secret", &format!("{svc}-db"))
            .unwrap_or_else(|| panic!("dev: no {svc}-db Secret (or it got a hash suffix)"));
        assert_eq!(secret["type"], "kubernetes.io/basic-auth");
    }
}

/// At the autoscalers' ceiling, during a rollout (one surge pod each), every pool full:
/// the connections still fit under PostgreSQL's limit, with room for the operator's own.
#[test]
fn connection_pools_fit_under_max_connections_at_full_scale() {
    const RESERVED: u64 = 10;
    for (overlay, m) in overlays() {
        let cluster = m.get("Cluster", "postgres").expect("CNPG Cluster");
        let max_connections: u64 = cluster["spec"]["postgresql"]["parameters"]["max_connections"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(100);
        let platform = m.config_map("platform").expect("platform ConfigMap");
        let pool: u64 = platform["data"]["DATABASE_POOL_MAX_SIZE"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        let mut total = 0;
        for svc in services().into_iter().filter(|s| has_database(s)) {
            let hpa = m.get("HorizontalPodAutoscaler", &svc).expect("HPA");
            let max = hpa["spec"]["maxReplicas"].as_u64().expect("maxReplicas");
            let deployment = m.get("Deployment", &svc).expect("Deployment");
            let surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
                .as_u64()
                .unwrap_or(1);
            total += (max + surge) * pool;
        }
        assert!(
            total + RESERVED <= max_connections,
            "{overlay}: {total} connections at full scale, max_connections is {max_connections}"
        );
    }
}
