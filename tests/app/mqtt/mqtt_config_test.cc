// MQTT URL and configuration parsing (docs/mqtt.md, "Configuration").
#include "edgewatch/app/mqtt/mqtt_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "edgewatch/app/mqtt/uplink.h"
#include "edgewatch/base/json.h"

namespace edgewatch::app::mqtt {
namespace {

TEST(ParseMqttUrl, HostPortAndCredentials) {
  BrokerConfig b;
  ASSERT_TRUE(ParseMqttUrl("mqtt://broker.example:1884", &b).ok());
  EXPECT_EQ(b.host, "broker.example");
  EXPECT_EQ(b.port, 1884);
  EXPECT_FALSE(b.tls);
  EXPECT_TRUE(b.username.empty());

  BrokerConfig c;
  ASSERT_TRUE(ParseMqttUrl("mqtts://edge%40site:p%3Ass@10.0.0.5", &c).ok());
  EXPECT_EQ(c.host, "10.0.0.5");
  EXPECT_EQ(c.port, 8883);
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.username, "edge@site");
  EXPECT_EQ(c.password, "p:ss");
  EXPECT_EQ(c.Describe(), "mqtts://10.0.0.5:8883");  // never the credentials

  BrokerConfig d;
  ASSERT_TRUE(ParseMqttUrl("mqtt://[::1]:1883/", &d).ok());
  EXPECT_EQ(d.host, "::1");
  EXPECT_EQ(d.Describe(), "mqtt://[::1]:1883");
}

TEST(ParseMqttUrl, BadUrlsNameTheProblemWithoutThePassword) {
  const char* bad[] = {"http://h:1",       "mqtt://",        "mqtt://h:0",
                       "mqtt://h:99999",   "mqtt://h:",      "mqtt://h:1/topic",
                       "mqtt://:secret@h", "mqtt://u:%zz@h", "mqtt://[::1"};
  for (const char* url : bad) {
    BrokerConfig b;
    Status s = ParseMqttUrl(url, &b);
    EXPECT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.message().find("secret"), std::string::npos) << s.message();
  }
}

TEST(ParseMqttConfigJson, AppliesEveryKey) {
  auto root = ParseJson(R"({"mqtt":{"url":"mqtt://central:1883","username":"edge",
      "password_file":"/etc/edgewatch/mqtt.pass","prefix":"fleet","device_id":"pi-7",
      "topics":["alerts","pipeline/+/error"],"outbox_max_messages":50,"outbox_max_kb":64,
      "max_inflight":4,"keepalive_s":15,"tls":{"ca":"/ca.pem","cert":"/c.pem","key":"/k.pem"}},
      "mqtt_ingest":{"url":"mqtt://127.0.0.1","deepstream_topics":["ds/+"],
      "frigate_prefix":"nvr"}})");
  ASSERT_TRUE(root.ok());
  MqttConfig c;
  ASSERT_TRUE(ParseMqttConfigJson(root->get(), &c).ok());
  EXPECT_EQ(c.uplink.broker.host, "central");
  EXPECT_EQ(c.uplink.broker.username, "edge");
  EXPECT_EQ(c.uplink.broker.password_file, "/etc/edgewatch/mqtt.pass");
  EXPECT_TRUE(c.uplink.broker.tls);
  EXPECT_EQ(c.uplink.broker.tls_ca_file, "/ca.pem");
  EXPECT_EQ(c.uplink.broker.keepalive_s, 15);
  EXPECT_EQ(c.uplink.prefix, "fleet");
  EXPECT_EQ(c.uplink.device_id, "pi-7");
  EXPECT_EQ(c.uplink.topics, (std::vector<std::string>{"alerts", "pipeline/+/error"}));
  EXPECT_EQ(c.uplink.outbox_max_messages, 50u);
  EXPECT_EQ(c.uplink.outbox_max_bytes, 64u * 1024);
  EXPECT_EQ(c.uplink.max_inflight, 4);
  EXPECT_EQ(c.ingest.broker.host, "127.0.0.1");
  EXPECT_EQ(c.ingest.broker.port, 1883);
  EXPECT_EQ(c.ingest.deepstream_topics, (std::vector<std::string>{"ds/+"}));
  EXPECT_EQ(c.ingest.frigate_prefix, "nvr");
  ASSERT_TRUE(ResolveMqttDefaults(&c).ok());
  EXPECT_EQ(c.uplink.broker.client_id, "edgewatch-pi-7-uplink");
  EXPECT_EQ(c.ingest.broker.client_id, "edgewatch-pi-7-ingest");
  EXPECT_EQ(c.uplink.broker.max_packet_bytes, 0u);          // MQTT 3.1.1 to any fleet broker
  EXPECT_EQ(c.ingest.broker.max_packet_bytes, 65u * 1024);  // MQTT 5, bounded receive
}

TEST(ParseMqttConfigJson, BadValuesNameTheKey) {
  struct Case {
    const char* json;
    const char* key;
  };
  const Case cases[] = {
      {R"({"mqtt":3})", "\"mqtt\""},
      {R"({"mqtt":{"url":"ftp://x"}})", "mqtt.url"},
      {R"({"mqtt":{"topics":"alerts"}})", "mqtt.topics"},
      {R"({"mqtt":{"topics":[1]}})", "mqtt.topics"},
      {R"({"mqtt":{"max_inflight":0}})", "mqtt.max_inflight"},
      {R"({"mqtt":{"tls":{"cert":"/c.pem"}}})", "mqtt.tls.cert and .tls.key"},
      {R"({"mqtt_ingest":{"deepstream_topics":{}}})", "mqtt_ingest.deepstream_topics"},
  };
  for (const Case& c : cases) {
    auto root = ParseJson(c.json);
    ASSERT_TRUE(root.ok()) << c.json;
    MqttConfig cfg;
    Status s = ParseMqttConfigJson(root->get(), &cfg);
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_NE(s.message().find(c.key), std::string::npos) << s.message();
  }
}

TEST(ResolveMqttDefaults, HostnameDeviceIdAndChecks) {
  MqttConfig c;
  c.uplink.broker.host = "h";
  ASSERT_TRUE(ResolveMqttDefaults(&c).ok());
  EXPECT_FALSE(c.uplink.device_id.empty());
  EXPECT_EQ(c.uplink.topics, (std::vector<std::string>{"pipeline/#", "alerts", "system/#"}));

  MqttConfig bad_pattern;
  bad_pattern.uplink.broker.host = "h";
  bad_pattern.uplink.topics = {"pipeline/#/x"};
  EXPECT_FALSE(ResolveMqttDefaults(&bad_pattern).ok());

  MqttConfig bad_device;
  bad_device.uplink.device_id = "a/b";
  EXPECT_FALSE(ResolveMqttDefaults(&bad_device).ok());

  MqttConfig bad_filter;
  bad_filter.ingest.broker.host = "h";
  bad_filter.ingest.deepstream_topics = {"ds/a#"};
  EXPECT_FALSE(ResolveMqttDefaults(&bad_filter).ok());

  MqttConfig ingest_defaults;
  ingest_defaults.ingest.broker.host = "h";
  ASSERT_TRUE(ResolveMqttDefaults(&ingest_defaults).ok());
  EXPECT_EQ(ingest_defaults.ingest.deepstream_topics, (std::vector<std::string>{"deepstream/#"}));
  EXPECT_EQ(ingest_defaults.ingest.frigate_prefix, "frigate");
}

TEST(LoadMqttSecrets, ReadsTheFirstLineOfThePasswordFile) {
  std::string path = ::testing::TempDir() + "/mqtt-pass-test";
  std::ofstream(path) << "s3cret\r\nignored\n";
  BrokerConfig b;
  b.password_file = path;
  ASSERT_TRUE(LoadMqttSecrets(&b).ok());
  EXPECT_EQ(b.password, "s3cret");
  std::remove(path.c_str());
  EXPECT_FALSE(LoadMqttSecrets(&b).ok());
}

TEST(UplinkQos, AlertsAndErrorsAreQos1) {
  EXPECT_EQ(UplinkQos("alerts"), 1);
  EXPECT_EQ(UplinkQos("pipeline/cam1/error"), 1);
  EXPECT_EQ(UplinkQos("pipeline/cam1/frame"), 0);
  EXPECT_EQ(UplinkQos("pipeline/cam1/status"), 0);
  EXPECT_EQ(UplinkQos("system/resources"), 0);
  EXPECT_EQ(UplinkQos("pipeline/cam1/error/x"), 0);
}

}  // namespace
}  // namespace edgewatch::app::mqtt
