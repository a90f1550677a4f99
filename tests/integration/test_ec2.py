"""EC2 networking resources end to end through the real AWS CLI and boto3.

Pinned here: every scope's default VPC (172.31.0.0/16) with a default subnet per zone
and a `default` security group; VPCs, subnets, security groups, rules and tags with
EC2's error codes and messages as botocore reads them; filters; persistence across a
restart with a named state dir; reset; isolation per account and region; and ECS
RunTask's subnets and security groups under the lenient and the strict
(--strict-references) references policy.
"""
import re
import tempfile
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
ID = {prefix: re.compile(prefix + r"-[0-9a-f]{17}$") for prefix in ("vpc", "subnet", "sg", "sgr")}


def error_of(test, call):
    from botocore.exceptions import ClientError
    with test.assertRaises(ClientError) as caught:
        call()
    return caught.exception.response["Error"]["Code"], caught.exception.response["Error"]["Message"]


class Ec2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY).start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.assertEqual(self.emulator.post("/_understudy/reset")[0], 200)
        self.ec2 = self.emulator.client("ec2")

    def aws(self, *args):
        return self.emulator.aws("ec2", *args)

    def cli_error(self, operation, code, message, *args):
        rc, out, err = self.aws(*args)
        self.assertEqual(rc, 255, out)
        self.assertIn(f"An error occurred ({code}) when calling the {operation} operation: {message}",
                      err)

    def everything(self):
        return (self.ec2.describe_vpcs()["Vpcs"], self.ec2.describe_subnets()["Subnets"],
                self.ec2.describe_security_groups()["SecurityGroups"], self.ec2.describe_tags()["Tags"])

    # The default VPC, its three subnets and its default group, as the CLI shows them.
    def test_default_vpc(self):
        rc, out, err = self.aws("describe-vpcs")
        self.assertEqual(rc, 0, err)
        [vpc] = out["Vpcs"]
        self.assertRegex(vpc["VpcId"], ID["vpc"])
        self.assertEqual((vpc["CidrBlock"], vpc["IsDefault"], vpc["State"]),
                         ("172.31.0.0/16", True, "available"))
        rc, out, err = self.aws("describe-subnets", "--filters", "Name=vpc-id,Values=" + vpc["VpcId"])
        subnets = out["Subnets"]
        self.assertEqual([(s["AvailabilityZone"], s["AvailabilityZoneId"], s["CidrBlock"]) for s in subnets],
                         [("us-east-1a", "use1-az1", "172.31.0.0/20"),
                          ("us-east-1b", "use1-az2", "172.31.16.0/20"),
                          ("us-east-1c", "use1-az3", "172.31.32.0/20")])
        for s in subnets:
            self.assertRegex(s["SubnetId"], ID["subnet"])
            self.assertTrue(s["DefaultForAz"])
            self.assertTrue(s["MapPublicIpOnLaunch"])
        rc, out, err = self.aws("describe-security-groups", "--group-names", "default")
        [group] = out["SecurityGroups"]
        self.assertRegex(group["GroupId"], ID["sg"])
        self.assertEqual(group["VpcId"], vpc["VpcId"])
        self.assertEqual(group["IpPermissions"][0]["UserIdGroupPairs"],
                         [{"GroupId": group["GroupId"], "UserId": "000000000000"}])
        rc, out, err = self.aws("describe-account-attributes")
        attributes = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                      for a in out["AccountAttributes"]}
        self.assertEqual(attributes, {
            "supported-platforms": ["VPC"], "default-vpc": [vpc["VpcId"]], "max-instances": ["20"],
            "vpc-max-security-groups-per-interface": ["5"], "max-elastic-ips": ["5"],
            "vpc-max-elastic-ips": ["5"]})
        rc, out, err = self.aws("describe-availability-zones")
        self.assertEqual([z["ZoneName"] for z in out["AvailabilityZones"]],
                         ["us-east-1a", "us-east-1b", "us-east-1c"])
        rc, out, err = self.aws("describe-regions", "--region-names", "eu-west-1")
        self.assertEqual(out["Regions"], [{"Endpoint": "ec2.eu-west-1.amazonaws.com",
                                           "RegionName": "eu-west-1",
                                           "OptInStatus": "opt-in-not-required"}])

    # Create, describe and delete a VPC and its subnet with the CLI.
    def test_vpc_and_subnet_lifecycle(self):
        rc, out, err = self.aws("create-vpc", "--cidr-block", "10.0.0.0/16", "--tag-specifications",
                                "ResourceType=vpc,Tags=[{Key=Name,Value=main}]")
        self.assertEqual(rc, 0, err)
        vpc = out["Vpc"]
        self.assertEqual((vpc["CidrBlock"], vpc["IsDefault"], vpc["Tags"]),
                         ("10.0.0.0/16", False, [{"Key": "Name", "Value": "main"}]))
        rc, out, err = self.aws("create-subnet", "--vpc-id", vpc["VpcId"], "--cidr-block", "10.0.1.0/24",
                                "--availability-zone", "us-east-1b")
        self.assertEqual(rc, 0, err)
        subnet = out["Subnet"]
        self.assertEqual((subnet["VpcId"], subnet["AvailabilityZone"], subnet["AvailableIpAddressCount"],
                          subnet["DefaultForAz"]), (vpc["VpcId"], "us-east-1b", 251, False))
        rc, out, err = self.aws("describe-subnets", "--subnet-ids", subnet["SubnetId"])
        self.assertEqual(out["Subnets"], [subnet])
        rc, out, err = self.aws("describe-security-groups", "--filters",
                                "Name=vpc-id,Values=" + vpc["VpcId"])
        self.assertEqual([g["GroupName"] for g in out["SecurityGroups"]], ["default"])
        self.cli_error("DeleteVpc", "DependencyViolation",
                       f"The vpc '{vpc['VpcId']}' has dependencies and cannot be deleted.",
                       "delete-vpc", "--vpc-id", vpc["VpcId"])
        self.assertEqual(self.aws("delete-subnet", "--subnet-id", subnet["SubnetId"])[0], 0)
        self.assertEqual(self.aws("delete-vpc", "--vpc-id", vpc["VpcId"])[0], 0)
        self.cli_error("DescribeVpcs", "InvalidVpcID.NotFound",
                       f"The vpc ID '{vpc['VpcId']}' does not exist",
                       "describe-vpcs", "--vpc-ids", vpc["VpcId"])
        rc, out, err = self.aws("describe-security-groups")
        self.assertEqual(len(out["SecurityGroups"]), 1, "the VPC's default group went with it")

    # Every VPC and subnet error as botocore sees it, and none changes anything.
    def test_vpc_and_subnet_errors(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")
        before = self.everything()
        cases = [
            (lambda: self.ec2.create_vpc(CidrBlock="10.0.0.0/33"), "InvalidParameterValue",
             "Value (10.0.0.0/33) for parameter cidrBlock is invalid. This is not a valid CIDR block."),
            (lambda: self.ec2.create_vpc(CidrBlock="10.0.0.0/8"), "InvalidVpc.Range",
             "The CIDR '10.0.0.0/8' is invalid."),
            (lambda: self.ec2.describe_vpcs(VpcIds=["vpc-123"]), "InvalidVpcID.NotFound",
             "The vpc ID 'vpc-123' does not exist"),
            (lambda: self.ec2.delete_vpc(VpcId="vpc-123"), "InvalidVpcID.NotFound",
             "The vpc ID 'vpc-123' does not exist"),
            (lambda: self.ec2.create_subnet(VpcId="vpc-123", CidrBlock="10.0.1.0/24"),
             "InvalidVpcID.NotFound", "The vpc ID 'vpc-123' does not exist"),
            (lambda: self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24"), "InvalidSubnet.Range",
             "The CIDR '10.1.0.0/24' is invalid."),
            (lambda: self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/25"), "InvalidSubnet.Conflict",
             "The CIDR '10.0.0.0/25' conflicts with another subnet"),
            (lambda: self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1z"),
             "InvalidParameterValue",
             "Value (us-east-1z) for parameter availabilityZone is invalid. Subnets can currently only "
             "be created in the following availability zones: us-east-1a, us-east-1b, us-east-1c."),
            (lambda: self.ec2.describe_subnets(SubnetIds=["subnet-a"]), "InvalidSubnetID.NotFound",
             "The subnet ID 'subnet-a' does not exist"),
            (lambda: self.ec2.delete_subnet(SubnetId="subnet-a"), "InvalidSubnetID.NotFound",
             "The subnet ID 'subnet-a' does not exist"),
            (lambda: self.ec2.create_default_vpc(), "DefaultVpcAlreadyExists",
             "A Default VPC already exists for this account in this region."),
            (lambda: self.ec2.describe_vpcs(Filters=[{"Name": "colour", "Values": ["red"]}]),
             "InvalidParameterValue", "The filter 'colour' is invalid"),
            (lambda: self.ec2.create_vpc(CidrBlock="10.0.0.0/16", DryRun=True), "DryRunOperation",
             "Request would have succeeded, but DryRun flag is set."),
        ]
        for call, code, message in cases:
            with self.subTest(code=code, message=message):
                self.assertEqual(error_of(self, call), (code, message))
        self.assertEqual(self.everything(), before)

    # Security groups and rules: create, authorize, revoke and delete, with EC2's errors.
    def test_security_groups_and_rules(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        created = self.ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc,
                                                 TagSpecifications=[{"ResourceType": "security-group",
                                                                     "Tags": [{"Key": "tier", "Value": "web"}]}])
        web = created["GroupId"]
        self.assertRegex(web, ID["sg"])
        self.assertEqual(created["Tags"], [{"Key": "tier", "Value": "web"}])
        app = self.ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
        rules = self.ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}]}])["SecurityGroupRules"]
        self.assertRegex(rules[0]["SecurityGroupRuleId"], ID["sgr"])
        self.ec2.authorize_security_group_ingress(GroupId=app, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": web}]}])
        group = self.ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"][0]
        self.assertEqual(group["IpPermissions"], [{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
            "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}])
        self.assertEqual(group["IpPermissionsEgress"][0]["IpRanges"], [{"CidrIp": "0.0.0.0/0"}])
        described = self.ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [app]}])["SecurityGroupRules"]
        self.assertEqual(sorted((r["IsEgress"], r["IpProtocol"], r["FromPort"]) for r in described),
                         [(False, "tcp", 8080), (True, "-1", -1)])
        default = self.ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
        before = self.everything()
        cases = [
            (lambda: self.ec2.create_security_group(GroupName="web", Description="x", VpcId=vpc),
             "InvalidGroup.Duplicate", f"The security group 'web' already exists for VPC '{vpc}'"),
            (lambda: self.ec2.authorize_security_group_ingress(
                GroupId=web, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0"),
             "InvalidPermission.Duplicate",
             'the specified rule "peer: 0.0.0.0/0, TCP, from port: 443, to port: 443, ALLOW" already exists'),
            (lambda: self.ec2.revoke_security_group_ingress(
                GroupId=web, IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0"),
             "InvalidPermission.NotFound", "The specified rule does not exist in this security group."),
            (lambda: self.ec2.describe_security_groups(GroupIds=["sg-123"]), "InvalidGroup.NotFound",
             "The security group 'sg-123' does not exist"),
            (lambda: self.ec2.delete_security_group(GroupId="sg-123"), "InvalidGroup.NotFound",
             "The security group 'sg-123' does not exist"),
            (lambda: self.ec2.delete_security_group(GroupId=default["GroupId"]), "CannotDelete",
             f'the specified group: "{default["GroupId"]}" name: "default" cannot be deleted by a user'),
            (lambda: self.ec2.delete_security_group(GroupId=web), "DependencyViolation",
             f"resource {web} has a dependent object"),
            (lambda: self.ec2.authorize_security_group_ingress(
                GroupId=web, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="10.0.0/8"),
             "InvalidParameterValue", "CIDR block 10.0.0/8 is malformed"),
        ]
        for call, code, message in cases:
            with self.subTest(code=code):
                self.assertEqual(error_of(self, call), (code, message))
        self.assertEqual(self.everything(), before)
        # Revoking app's rule frees web; the CLI's revoke and delete then succeed.
        revoked = self.ec2.revoke_security_group_ingress(GroupId=app, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": web}]}])
        self.assertEqual(revoked["RevokedSecurityGroupRules"][0]["ReferencedGroupId"], web)
        rc, out, err = self.aws("revoke-security-group-ingress", "--group-id", web, "--protocol", "tcp",
                                "--port", "443", "--cidr", "0.0.0.0/0")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.aws("delete-security-group", "--group-id", web)
        self.assertEqual(rc, 0, err)
        self.assertEqual(error_of(self, lambda: self.ec2.describe_security_groups(GroupIds=[web]))[0],
                         "InvalidGroup.NotFound")

    # In the default VPC, revoking a rule that does not exist is reported, not refused.
    def test_revoke_unknown_rule_in_default_vpc(self):
        group = self.ec2.create_security_group(GroupName="d", Description="d")["GroupId"]
        out = self.ec2.revoke_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=81,
                                                     ToPort=81, CidrIp="0.0.0.0/0")
        self.assertTrue(out["Return"])
        self.assertEqual(out["UnknownIpPermissions"][0]["IpRanges"], [{"CidrIp": "0.0.0.0/0"}])

    # Tags: create, describe, filter by tag, delete; an unknown id changes nothing.
    def test_tags_and_filters(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        rc, out, err = self.aws("create-tags", "--resources", vpc, subnet, "--tags", "Key=env,Value=dev",
                                "Key=Name,Value=main")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.aws("describe-tags", "--filters", "Name=resource-id,Values=" + subnet)
        self.assertEqual(out["Tags"], [
            {"Key": "Name", "ResourceId": subnet, "ResourceType": "subnet", "Value": "main"},
            {"Key": "env", "ResourceId": subnet, "ResourceType": "subnet", "Value": "dev"}])
        rc, out, err = self.aws("describe-vpcs", "--filters", "Name=tag:Name,Values=ma*")
        self.assertEqual([v["VpcId"] for v in out["Vpcs"]], [vpc])
        rc, out, err = self.aws("describe-vpcs", "--filters", "Name=isDefault,Values=true")
        self.assertEqual([v["IsDefault"] for v in out["Vpcs"]], [True])
        rc, out, err = self.aws("describe-subnets", "--filters", "Name=default-for-az,Values=true",
                                "Name=availability-zone,Values=us-east-1a,us-east-1c")
        self.assertEqual([s["CidrBlock"] for s in out["Subnets"]], ["172.31.0.0/20", "172.31.32.0/20"])
        rc, out, err = self.aws("describe-subnets", "--filters", "Name=tag-key,Values=env")
        self.assertEqual([s["SubnetId"] for s in out["Subnets"]], [subnet])
        self.assertEqual(self.aws("delete-tags", "--resources", subnet, "--tags", "Key=env")[0], 0)
        rc, out, err = self.aws("describe-subnets", "--subnet-ids", subnet)
        self.assertEqual(out["Subnets"][0]["Tags"], [{"Key": "Name", "Value": "main"}])
        before = self.everything()
        self.cli_error("CreateTags", "InvalidVpcID.NotFound", "The vpc ID 'vpc-0000' does not exist",
                       "create-tags", "--resources", subnet, "vpc-0000", "--tags", "Key=a,Value=b")
        self.assertEqual(self.everything(), before)

    # boto3's paginator follows NextToken through MaxResults pages.
    def test_pagination(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        for i in range(7):
            self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")
        pages = list(self.ec2.get_paginator("describe_subnets").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}], PaginationConfig={"PageSize": 5}))
        self.assertEqual([len(p["Subnets"]) for p in pages], [5, 2])
        self.assertEqual(sorted(s["CidrBlock"] for p in pages for s in p["Subnets"]),
                         [f"10.0.{i}.0/24" for i in range(7)])

    # Each account and region has its own default VPC and sees only its own resources.
    def test_isolation(self):
        west = self.emulator.client("ec2", region="eu-west-1")
        other = self.emulator.client("ec2", access_key="123456789012")
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        for client in (west, other):
            self.assertEqual(error_of(self, lambda: client.describe_vpcs(VpcIds=[vpc]))[0],
                             "InvalidVpcID.NotFound")
            [default] = client.describe_vpcs()["Vpcs"]
            self.assertTrue(default["IsDefault"])
        zones = [s["AvailabilityZoneId"] for s in west.describe_subnets()["Subnets"]]
        self.assertEqual(zones, ["euw1-az1", "euw1-az2", "euw1-az3"])
        self.assertEqual(other.describe_vpcs()["Vpcs"][0]["OwnerId"], "123456789012")

    # Reset drops what was created; the default VPC comes back with the same id.
    def test_reset(self):
        default = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.assertEqual(self.emulator.post("/_understudy/reset")[0], 200)
        self.assertEqual([v["VpcId"] for v in self.ec2.describe_vpcs()["Vpcs"]], [default])
        self.assertEqual(error_of(self, lambda: self.ec2.describe_vpcs(VpcIds=[vpc]))[0],
                         "InvalidVpcID.NotFound")


class Ec2PersistenceTest(unittest.TestCase):
    # Everything survives a restart with the same state dir, and no id is handed out twice.
    def test_restart_keeps_resources(self):
        with tempfile.TemporaryDirectory() as state:
            with Understudy(BINARY, "--state-dir", state) as first:
                ec2 = first.client("ec2")
                vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
                ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")
                group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
                ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80,
                                                     ToPort=80, CidrIp="0.0.0.0/0")
                ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "main"}])
                before = (ec2.describe_vpcs()["Vpcs"], ec2.describe_subnets()["Subnets"],
                          ec2.describe_security_groups()["SecurityGroups"])
            with Understudy(BINARY, "--state-dir", state) as second:
                ec2 = second.client("ec2")
                after = (ec2.describe_vpcs()["Vpcs"], ec2.describe_subnets()["Subnets"],
                         ec2.describe_security_groups()["SecurityGroups"])
                self.assertEqual(after, before)
                again = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
                self.assertNotEqual(again, vpc)


class StrictReferencesTest(unittest.TestCase):
    def run_task(self, emulator, subnets, groups=()):
        ecs = emulator.client("ecs")
        ecs.create_cluster(clusterName="web")
        ecs.register_task_definition(
            family="job", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[{"name": "job", "image": "local/job", "command": ["/bin/true"]}])
        return ecs.run_task(cluster="web", taskDefinition="job", launchType="FARGATE", networkConfiguration={
            "awsvpcConfiguration": {"subnets": list(subnets), "securityGroups": list(groups)}})

    # With --strict-references ECS refuses an unknown subnet or group the way ECS words it,
    # and accepts the default subnets, placing the task in the subnet's zone.
    def test_strict(self):
        with Understudy(BINARY, "--strict-references") as emulator:
            ec2 = emulator.client("ec2")
            subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone",
                                                    "Values": ["us-east-1b"]}])["Subnets"][0]["SubnetId"]
            group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
            self.assertEqual(error_of(self, lambda: self.run_task(emulator, ["subnet-a"])), (
                "InvalidParameterException",
                "Error retrieving subnet information for [subnet-a]: The subnet ID 'subnet-a' does not "
                "exist (ErrorCode: InvalidSubnetID.NotFound)"))
            self.assertEqual(error_of(self, lambda: self.run_task(emulator, [subnet], ["sg-123"])), (
                "InvalidParameterException",
                "Error retrieving security group information for [sg-123]: The security group 'sg-123' "
                "does not exist (ErrorCode: InvalidGroup.NotFound)"))
            ecs = emulator.client("ecs")
            self.assertEqual(ecs.list_tasks(cluster="web")["taskArns"], [])
            task = self.run_task(emulator, [subnet], [group])["tasks"][0]
            self.assertEqual(task["availabilityZone"], "us-east-1b")
            details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
            self.assertEqual(details["subnetId"], subnet)

    # By default an unknown subnet is accepted with one warning per id.
    def test_lenient(self):
        emulator = Understudy(BINARY).start()
        try:
            for _ in range(2):
                task = self.run_task(emulator, ["subnet-a"], ["sg-123"])["tasks"][0]
                self.assertEqual(task["availabilityZone"], "us-east-1a")
        finally:
            emulator.stop()
        warnings = [line for line in emulator.stderr.splitlines() if "unknown subnet 'subnet-a'" in line]
        self.assertEqual(len(warnings), 1, emulator.stderr)
        self.assertIn("--strict-references", warnings[0])
        self.assertEqual(len([line for line in emulator.stderr.splitlines()
                              if "unknown security group 'sg-123'" in line]), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
