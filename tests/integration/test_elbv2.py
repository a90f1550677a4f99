"""ELBv2 (Application Load Balancer) control plane end to end through the AWS CLI and boto3.

AWS behaviour pinned here (aws-semantics §1): ARNs and DNS names, the default rule,
rule priorities, attribute defaults and validation, target health reasons, draining
for deregistration_delay on the clock, error codes as botocore maps them
(TargetGroupNotFound -> TargetGroupNotFoundException), tags, and a state dir that
keeps every resource and each listener's local port across a restart.
"""
import shutil
import tempfile
import unittest

import botocore.exceptions

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
START = "2026-11-23T08:00:00Z"
ACCOUNT = "000000000000"


def make_stack(elb, name="web", tg_name="app", port=80):
    """A load balancer, an ip target group on 8080 and an HTTP listener forwarding to it."""
    lb = elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"],
                                  SecurityGroups=["sg-1"])["LoadBalancers"][0]
    tg = elb.create_target_group(Name=tg_name, Protocol="HTTP", Port=8080, VpcId=lb["VpcId"],
                                 TargetType="ip", HealthCheckPath="/health")["TargetGroups"][0]
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]
    return lb, tg, listener


class Elbv2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY, "--clock", "virtual", "--start", START).start()
        cls.elb = cls.emulator.client("elbv2")

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.assertEqual(self.emulator.post("/_understudy/reset")[0], 200)

    def aws(self, *args):
        return self.emulator.aws("elbv2", *args)

    def error_code(self, call, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            call(**kwargs)
        return caught.exception.response["Error"]["Code"], caught.exception.response["Error"]["Message"]

    # The CLI flow: create everything, describe it, register targets, see their health.
    def test_cli_flow(self):
        rc, out, err = self.aws("create-load-balancer", "--name", "web", "--subnets", "subnet-1",
                                "subnet-2", "--scheme", "internal")
        self.assertEqual(rc, 0, err)
        lb = out["LoadBalancers"][0]
        self.assertRegex(lb["LoadBalancerArn"],
                         rf"^arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/web/[0-9a-f]{{16}}$")
        self.assertRegex(lb["DNSName"], r"^internal-web-\d+\.us-east-1\.elb\.amazonaws\.com$")
        self.assertEqual(lb["State"], {"Code": "provisioning"})
        self.assertEqual([z["ZoneName"] for z in lb["AvailabilityZones"]], ["us-east-1a", "us-east-1b"])
        rc, out, err = self.aws("describe-load-balancers", "--names", "web")
        self.assertEqual(out["LoadBalancers"][0]["State"], {"Code": "active"})

        rc, out, err = self.aws("create-target-group", "--name", "app", "--protocol", "HTTP",
                                "--port", "8080", "--vpc-id", lb["VpcId"], "--target-type", "ip")
        self.assertEqual(rc, 0, err)
        tg = out["TargetGroups"][0]
        self.assertEqual((tg["HealthCheckPath"], tg["HealthCheckIntervalSeconds"],
                          tg["HealthCheckTimeoutSeconds"], tg["HealthyThresholdCount"],
                          tg["UnhealthyThresholdCount"], tg["Matcher"]),
                         ("/", 30, 5, 5, 2, {"HttpCode": "200"}))
        rc, out, err = self.aws("create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
                                "--protocol", "HTTP", "--port", "80", "--default-actions",
                                f"Type=forward,TargetGroupArn={tg['TargetGroupArn']}")
        self.assertEqual(rc, 0, err)
        listener = out["Listeners"][0]
        rc, out, err = self.aws("register-targets", "--target-group-arn", tg["TargetGroupArn"],
                                "--targets", "Id=10.0.0.5", "Id=10.0.0.6,Port=9000")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.aws("describe-target-health", "--target-group-arn", tg["TargetGroupArn"])
        # Nothing listens at these addresses: the first probe may already have failed.
        self.assertEqual([(d["Target"]["Id"], d["Target"]["Port"], d["HealthCheckPort"],
                           d["TargetHealth"]["State"])
                          for d in out["TargetHealthDescriptions"]],
                         [("10.0.0.5", 8080, "8080", "initial"),
                          ("10.0.0.6", 9000, "9000", "initial")])
        for description in out["TargetHealthDescriptions"]:
            self.assertIn(description["TargetHealth"]["Reason"],
                          ("Elb.RegistrationInProgress", "Elb.InitialHealthChecking"))
        rc, out, err = self.aws("describe-target-groups", "--load-balancer-arn", lb["LoadBalancerArn"])
        self.assertEqual(out["TargetGroups"][0]["LoadBalancerArns"], [lb["LoadBalancerArn"]])
        # The emulator lists the listener with the local port it is bound on.
        status, state = self.emulator.get("/_understudy/elb")
        self.assertEqual(status, 200)
        entry = state["loadBalancers"][0]["listeners"][0]
        self.assertEqual((entry["arn"], entry["port"]), (listener["ListenerArn"], 80))
        self.assertEqual(entry["url"], f"http://127.0.0.1:{entry['localPort']}")
        rc, out, err = self.aws("describe-target-groups", "--names", "nope")
        self.assertNotEqual(rc, 0)
        self.assertIn("An error occurred (TargetGroupNotFound) when calling the DescribeTargetGroups "
                      "operation: One or more target groups not found", err)

    # Rules: the default rule, priorities, conditions; errors as botocore sees them.
    def test_rules(self):
        lb, tg, listener = make_stack(self.elb)
        arn = listener["ListenerArn"]
        rule = self.elb.create_rule(
            ListenerArn=arn, Priority=10,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
                        {"Field": "host-header", "Values": ["api.example.com"]}],
            Actions=[{"Type": "fixed-response",
                      "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/html",
                                              "MessageBody": "maintenance"}}])["Rules"][0]
        self.assertEqual(rule["Priority"], "10")
        self.elb.create_rule(ListenerArn=arn, Priority=5,
                             Conditions=[{"Field": "http-request-method",
                                          "HttpRequestMethodConfig": {"Values": ["POST"]}}],
                             Actions=[{"Type": "redirect", "RedirectConfig": {
                                 "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
        rules = self.elb.describe_rules(ListenerArn=arn)["Rules"]
        self.assertEqual([r["Priority"] for r in rules], ["5", "10", "default"])
        self.assertTrue(rules[2]["IsDefault"])
        self.assertEqual(rules[0]["Actions"][0]["RedirectConfig"],
                         {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
                          "Query": "#{query}", "StatusCode": "HTTP_301"})
        code = self.error_code(self.elb.create_rule, ListenerArn=arn, Priority=10,
                               Conditions=[{"Field": "path-pattern", "Values": ["/x"]}],
                               Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        self.assertEqual(code, ("PriorityInUse", "Priority '10' is currently in use"))
        with self.assertRaises(self.elb.exceptions.PriorityInUseException):
            self.elb.set_rule_priorities(RulePriorities=[{"RuleArn": rules[0]["RuleArn"], "Priority": 10}])
        self.elb.set_rule_priorities(RulePriorities=[{"RuleArn": rules[0]["RuleArn"], "Priority": 10},
                                                     {"RuleArn": rules[1]["RuleArn"], "Priority": 5}])
        self.assertEqual([r["RuleArn"] for r in self.elb.describe_rules(ListenerArn=arn)["Rules"]],
                         [rules[1]["RuleArn"], rules[0]["RuleArn"], rules[2]["RuleArn"]])
        with self.assertRaises(self.elb.exceptions.TargetGroupNotFoundException):
            self.elb.create_rule(ListenerArn=arn, Priority=30,
                                 Conditions=[{"Field": "path-pattern", "Values": ["/y"]}],
                                 Actions=[{"Type": "forward",
                                           "TargetGroupArn": tg["TargetGroupArn"] + "0"}])
        with self.assertRaises(self.elb.exceptions.OperationNotPermittedException):
            self.elb.delete_rule(RuleArn=rules[2]["RuleArn"])
        with self.assertRaises(self.elb.exceptions.RuleNotFoundException):
            self.elb.describe_rules(RuleArns=[rules[2]["RuleArn"] + "0"])
        with self.assertRaises(self.elb.exceptions.DuplicateListenerException):
            self.elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                     DefaultActions=[{"Type": "fixed-response",
                                                      "FixedResponseConfig": {"StatusCode": "404"}}])
        # The model's own checks come first: priority 0 is out of range.
        unchecked = self.emulator.client("elbv2", validate=False)
        code = self.error_code(unchecked.create_rule, ListenerArn=arn, Priority=0,
                               Conditions=[], Actions=[{"Type": "forward",
                                                        "TargetGroupArn": tg["TargetGroupArn"]}])
        self.assertEqual(code[0], "ValidationError")
        self.elb.delete_rule(RuleArn=rules[1]["RuleArn"])
        self.assertEqual(len(self.elb.describe_rules(ListenerArn=arn)["Rules"]), 2)

    # Attributes: defaults, modification and validation of load balancers and target groups.
    def test_attributes(self):
        lb, tg, listener = make_stack(self.elb)
        attrs = {a["Key"]: a["Value"] for a in self.elb.describe_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
        self.assertEqual((attrs["idle_timeout.timeout_seconds"], attrs["routing.http2.enabled"],
                          attrs["deletion_protection.enabled"]), ("60", "true", "false"))
        self.elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"},
                        {"Key": "idle_timeout.timeout_seconds", "Value": "120"}])
        code = self.error_code(self.elb.delete_load_balancer, LoadBalancerArn=lb["LoadBalancerArn"])
        self.assertEqual(code, ("OperationNotPermitted",
                                f"Load balancer '{lb['LoadBalancerArn']}' cannot be deleted because "
                                "deletion protection is enabled"))
        code = self.error_code(self.elb.modify_load_balancer_attributes,
                               LoadBalancerArn=lb["LoadBalancerArn"],
                               Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "5000"}])
        self.assertEqual(code, ("ValidationError", "The value of 'idle_timeout.timeout_seconds' must "
                                "be an integer between 1 and 4000, found '5000'"))
        tg_attrs = {a["Key"]: a["Value"] for a in self.elb.describe_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
        self.assertEqual((tg_attrs["deregistration_delay.timeout_seconds"], tg_attrs["stickiness.type"],
                          tg_attrs["load_balancing.algorithm.type"]), ("300", "lb_cookie", "round_robin"))
        with self.assertRaises(self.elb.exceptions.InvalidConfigurationRequestException):
            self.elb.modify_target_group_attributes(
                TargetGroupArn=tg["TargetGroupArn"],
                Attributes=[{"Key": "stickiness.enabled", "Value": "true"},
                            {"Key": "stickiness.type", "Value": "app_cookie"}])
        out = self.elb.modify_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"],
            Attributes=[{"Key": "stickiness.enabled", "Value": "true"},
                        {"Key": "slow_start.duration_seconds", "Value": "60"}])
        self.assertIn({"Key": "slow_start.duration_seconds", "Value": "60"}, out["Attributes"])
        listener_attrs = self.elb.describe_listener_attributes(ListenerArn=listener["ListenerArn"])
        self.assertIn({"Key": "routing.http.response.server.enabled", "Value": "true"},
                      listener_attrs["Attributes"])

    # Tags on every kind of resource; SSL policies and account limits.
    def test_tags_policies_limits(self):
        lb, tg, listener = make_stack(self.elb)
        rule = self.elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"][0]
        arns = [lb["LoadBalancerArn"], tg["TargetGroupArn"], listener["ListenerArn"], rule["RuleArn"]]
        self.elb.add_tags(ResourceArns=arns, Tags=[{"Key": "env", "Value": "dev"},
                                                   {"Key": "team", "Value": "web"}])
        self.elb.remove_tags(ResourceArns=[tg["TargetGroupArn"]], TagKeys=["team"])
        described = self.elb.describe_tags(ResourceArns=arns)["TagDescriptions"]
        self.assertEqual([(d["ResourceArn"], len(d["Tags"])) for d in described],
                         [(arns[0], 2), (arns[1], 1), (arns[2], 2), (arns[3], 2)])
        with self.assertRaises(self.elb.exceptions.DuplicateTagKeysException):
            self.elb.add_tags(ResourceArns=arns[:1], Tags=[{"Key": "a", "Value": "1"},
                                                           {"Key": "a", "Value": "2"}])
        names = [p["Name"] for p in self.elb.describe_ssl_policies()["SslPolicies"]]
        self.assertIn("ELBSecurityPolicy-2016-08", names)
        self.assertIn("ELBSecurityPolicy-TLS13-1-2-2021-06", names)
        with self.assertRaises(self.elb.exceptions.SSLPolicyNotFoundException):
            self.elb.describe_ssl_policies(Names=["nope"])
        limits = {l["Name"]: l["Max"] for l in self.elb.describe_account_limits()["Limits"]}
        self.assertEqual(limits["listeners-per-application-load-balancer"], "50")

    # What Terraform's and CDK's ALB + ECS patterns call after each create.
    def test_terraform_and_cdk_calls(self):
        lb = self.elb.create_load_balancer(Name="tf-lb", Subnets=["subnet-1", "subnet-2"],
                                           SecurityGroups=["sg-1"], Scheme="internet-facing",
                                           Type="application", IpAddressType="ipv4",
                                           Tags=[{"Key": "Name", "Value": "tf"}])["LoadBalancers"][0]
        arn = lb["LoadBalancerArn"]
        self.elb.describe_load_balancers(LoadBalancerArns=[arn])
        self.elb.describe_load_balancer_attributes(LoadBalancerArn=arn)
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "60"},
            {"Key": "routing.http2.enabled", "Value": "true"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"},
            {"Key": "routing.http.desync_mitigation_mode", "Value": "defensive"},
            {"Key": "access_logs.s3.enabled", "Value": "false"}])
        self.elb.describe_tags(ResourceArns=[arn])
        tg = self.elb.create_target_group(
            Name="tf-tg", Port=80, Protocol="HTTP", VpcId=lb["VpcId"], TargetType="ip",
            HealthCheckEnabled=True, HealthCheckIntervalSeconds=30, HealthCheckPath="/",
            HealthCheckPort="traffic-port", HealthCheckProtocol="HTTP", HealthCheckTimeoutSeconds=5,
            HealthyThresholdCount=3, UnhealthyThresholdCount=3, Matcher={"HttpCode": "200-399"},
            ProtocolVersion="HTTP1")["TargetGroups"][0]
        tg_arn = tg["TargetGroupArn"]
        self.elb.modify_target_group_attributes(TargetGroupArn=tg_arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
            {"Key": "stickiness.enabled", "Value": "false"},
            {"Key": "stickiness.type", "Value": "lb_cookie"},
            {"Key": "load_balancing.algorithm.type", "Value": "round_robin"},
            {"Key": "load_balancing.cross_zone.enabled", "Value": "use_load_balancer_configuration"}])
        self.elb.describe_target_groups(TargetGroupArns=[tg_arn])
        self.elb.describe_target_group_attributes(TargetGroupArn=tg_arn)
        listener = self.elb.create_listener(
            LoadBalancerArn=arn, Port=443, Protocol="HTTPS",
            Certificates=[{"CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/abc"}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]
        self.assertEqual(listener["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06")
        redirect = self.elb.create_listener(
            LoadBalancerArn=arn, Port=80, Protocol="HTTP",
            DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])["Listeners"][0]
        self.elb.describe_listeners(ListenerArns=[listener["ListenerArn"], redirect["ListenerArn"]])
        self.elb.describe_listener_attributes(ListenerArn=listener["ListenerArn"])
        certs = self.elb.describe_listener_certificates(ListenerArn=listener["ListenerArn"])
        self.assertEqual(certs["Certificates"], [{
            "CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/abc", "IsDefault": True}])
        self.elb.add_listener_certificates(ListenerArn=listener["ListenerArn"], Certificates=[
            {"CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/def"}])
        self.assertEqual(len(self.elb.describe_listener_certificates(
            ListenerArn=listener["ListenerArn"])["Certificates"]), 2)
        self.elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=["sg-2"])
        self.elb.set_subnets(LoadBalancerArn=arn, Subnets=["subnet-3", "subnet-4"])
        self.assertEqual(self.elb.describe_load_balancers(Names=["tf-lb"])["LoadBalancers"][0]
                         ["SecurityGroups"], ["sg-2"])
        # Teardown in Terraform's order.
        self.elb.delete_listener(ListenerArn=redirect["ListenerArn"])
        self.elb.delete_listener(ListenerArn=listener["ListenerArn"])
        self.elb.delete_target_group(TargetGroupArn=tg_arn)
        self.elb.delete_load_balancer(LoadBalancerArn=arn)
        with self.assertRaises(self.elb.exceptions.LoadBalancerNotFoundException):
            self.elb.describe_load_balancers(LoadBalancerArns=[arn])

    # A deregistered target drains for deregistration_delay of virtual time, then is gone;
    # the emulator's wait moves the clock as far as the condition needs.
    def test_draining_on_the_clock(self):
        lb, tg, listener = make_stack(self.elb)
        tg_arn = tg["TargetGroupArn"]
        self.elb.modify_target_group_attributes(TargetGroupArn=tg_arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "120"}])
        self.elb.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": "10.0.0.7"}])
        self.elb.deregister_targets(TargetGroupArn=tg_arn, Targets=[{"Id": "10.0.0.7"}])
        health = self.elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        self.assertEqual(health[0]["TargetHealth"], {
            "State": "draining", "Reason": "Target.DeregistrationInProgress",
            "Description": "Target deregistration is in progress"})
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"elbTargetHealth": {"targetGroupArn": tg_arn, "id": "10.0.0.7",
                                          "state": "unused"}}, "timeout": "10m"})
        self.assertEqual(status, 200, answer)
        self.assertTrue(answer["met"])
        _, after = self.emulator.get("/_understudy/clock")
        self.assertEqual(after["now"], "2026-11-23T08:02:00.000Z")
        self.assertEqual(self.elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"], [])
        asked = self.elb.describe_target_health(TargetGroupArn=tg_arn, Targets=[{"Id": "10.0.0.7"}])
        self.assertEqual(asked["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"],
                         "Target.NotRegistered")
        # A wait that cannot be met times out and says what it saw.
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"elbTargetHealth": {"targetGroupArn": tg_arn, "id": "10.0.0.7",
                                          "state": "healthy"}}, "timeout": "1m"})
        self.assertEqual(status, 408)
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"elbTargetHealth": {"targetGroupArn": tg_arn}}, "timeout": "1m"})
        self.assertEqual(status, 400)

    # A target group no listener uses shows its targets unused / Target.NotInUse.
    def test_not_in_use(self):
        tg = self.elb.create_target_group(Name="idle", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                          TargetType="ip")["TargetGroups"][0]
        self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "10.0.0.1"}])
        health = self.elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
        self.assertEqual(health["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"],
                         "Target.NotInUse")
        with self.assertRaises(self.elb.exceptions.InvalidTargetException):
            self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "web-1"}])


class Elbv2RestartTest(unittest.TestCase):
    # Every resource, and each listener's local port, survives a restart on the same state dir.
    def test_restart_keeps_everything(self):
        state_dir = tempfile.mkdtemp(prefix="understudy-elbv2-")
        try:
            with Understudy(BINARY, "--state-dir", state_dir) as first:
                elb = first.client("elbv2")
                lb, tg, listener = make_stack(elb, port=18080)
                elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "10.0.0.5"}])
                elb.add_tags(ResourceArns=[lb["LoadBalancerArn"]], Tags=[{"Key": "env", "Value": "dev"}])
                _, before = first.get("/_understudy/elb")
            second = Understudy(BINARY, "--state-dir", state_dir)
            with second:
                elb = second.client("elbv2")
                _, after = second.get("/_understudy/elb")
                self.assertEqual(after, before)
                self.assertEqual(elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"],
                                 [listener])
                health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
                self.assertEqual(health["TargetHealthDescriptions"][0]["TargetHealth"]["State"], "initial")
                self.assertEqual(elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])
                                 ["TagDescriptions"][0]["Tags"], [{"Key": "env", "Value": "dev"}])
            self.assertIn("listener web:18080 on 127.0.0.1:", second.stderr)
        finally:
            shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
