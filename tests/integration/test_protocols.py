"""Each AWS protocol family, end to end: routed, validated and answered in a shape the
real client parses (aws-semantics §7). Malformed requests get the protocol's own error,
never a crash or a hang, and the server keeps serving.
"""
import json
import socket
import struct
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
ECS_TARGET = "AmazonEC2ContainerServiceV20141113."


def cbor(value):
    """A tiny CBOR encoder for test requests (maps, text, ints, lists)."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        if n < 256:
            return bytes([major << 5 | 24, n])
        if n < 65536:
            return bytes([major << 5 | 25]) + struct.pack(">H", n)
        return bytes([major << 5 | 26]) + struct.pack(">I", n)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, str):
        raw = value.encode()
        return head(3, len(raw)) + raw
    if isinstance(value, int) and value >= 0:
        return head(0, value)
    raise TypeError(value)


def uncbor(data):
    """Decodes the subset of CBOR understudy's answers use."""
    def item(i):
        b = data[i]
        major, info = b >> 5, b & 31
        i += 1
        if major == 7:
            if info == 20: return False, i
            if info == 21: return True, i
            if info == 22: return None, i
            if info == 27: return struct.unpack(">d", data[i:i + 8])[0], i + 8
        if info < 24: n = info
        elif info == 24: n, i = data[i], i + 1
        elif info == 25: n, i = struct.unpack(">H", data[i:i + 2])[0], i + 2
        elif info == 26: n, i = struct.unpack(">I", data[i:i + 4])[0], i + 4
        else: n, i = struct.unpack(">Q", data[i:i + 8])[0], i + 8
        if major == 0: return n, i
        if major == 1: return -1 - n, i
        if major in (2, 3):
            raw = data[i:i + n]
            return (raw.decode() if major == 3 else raw), i + n
        if major == 4:
            out = []
            for _ in range(n):
                v, i = item(i)
                out.append(v)
            return out, i
        if major == 5:
            out = {}
            for _ in range(n):
                k, i = item(i)
                out[k], i = item(i)
            return out, i
        if major == 6:
            return item(i)
        raise ValueError(b)
    return item(0)[0]


class ProtocolsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY).start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def error_of(self, call):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as caught:
            call()
        return caught.exception.response

    def assertStillServing(self):
        status, health = self.emulator.get("/_understudy/health")
        self.assertEqual(health["status"], "ok")

    # awsJson1_1 (ECS): the server validates against the model when the client does not.
    def test_json11_validation(self):
        ecs = self.emulator.client("ecs", validate=False)
        response = self.error_of(lambda: ecs.describe_clusters(include=["EVERYTHING"]))
        self.assertEqual(response["Error"]["Code"], "ValidationException")
        self.assertEqual(response["Error"]["Message"],
                         "1 validation error detected: Value 'EVERYTHING' at 'include.1.member' "
                         "failed to satisfy constraint: Member must satisfy enum value set: "
                         "[ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS]")
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 400)
        response = self.error_of(lambda: ecs.list_clusters(maxResults="ten"))
        self.assertEqual(response["Error"]["Code"], "SerializationException")
        self.assertEqual(response["Error"]["Message"],
                         "expected an integer at 'maxResults', found string \"ten\"")

    # awsQuery (ELBv2, SES v1): XML errors with the wire code; not-yet-implemented = InvalidAction.
    def test_query(self):
        elbv2 = self.emulator.client("elbv2", validate=False)
        response = self.error_of(lambda: elbv2.create_load_balancer(Subnets=["subnet-a"]))
        self.assertEqual(response["Error"], {
            "Type": "Sender", "Code": "ValidationError",
            "Message": "1 validation error detected: Value null at 'Name' failed to satisfy "
                       "constraint: Member must not be null"})
        response = self.error_of(lambda: elbv2.create_target_group(Name="a", Port=70000))
        self.assertEqual(response["Error"]["Message"],
                         "1 validation error detected: Value '70000' at 'Port' failed to satisfy "
                         "constraint: Member must have value less than or equal to 65535")
        rc, out, err = self.emulator.aws("elbv2", "describe-trust-stores")
        self.assertEqual(rc, 255)
        self.assertIn("An error occurred (InvalidAction) when calling the DescribeTrustStores "
                      "operation: understudy does not implement Elastic Load Balancing v2 "
                      "DescribeTrustStores yet", err)
        ses = self.emulator.client("ses", validate=False)
        response = self.error_of(lambda: ses.send_email(Source="a@example.org"))
        self.assertEqual(response["Error"]["Message"],
                         "2 validation errors detected: Value null at 'Destination' failed to "
                         "satisfy constraint: Member must not be null; Value null at 'Message' "
                         "failed to satisfy constraint: Member must not be null")

    # EC2's query dialect: <Response><Errors><Error> documents parsed by botocore.
    def test_ec2(self):
        ec2 = self.emulator.client("ec2", validate=False)
        response = self.error_of(lambda: ec2.create_subnet(CidrBlock="10.0.0.0/24"))
        self.assertEqual(response["Error"]["Code"], "MissingParameter")
        self.assertEqual(response["Error"]["Message"], "The request must contain the parameter VpcId")
        rc, out, err = self.emulator.aws("ec2", "describe-vpcs", "--vpc-ids", "vpc-123")
        self.assertIn("(InvalidVpcID.NotFound) when calling the DescribeVpcs operation: "
                      "The vpc ID 'vpc-123' does not exist", err)

    # restJson1 (SES v2, Scheduler): status and X-Amzn-ErrorType; path labels validated.
    def test_rest_json(self):
        sesv2 = self.emulator.client("sesv2", validate=False)
        response = self.error_of(lambda: sesv2.get_dedicated_ips())
        self.assertEqual(response["Error"]["Code"], "UnknownOperationException")
        self.assertEqual(response["Error"]["Message"],
                         "understudy does not implement SESv2 GetDedicatedIps yet")
        scheduler = self.emulator.client("scheduler", validate=False)
        response = self.error_of(lambda: scheduler.get_schedule(Name="x" * 65))
        self.assertEqual(response["Error"]["Code"], "ValidationException")
        self.assertEqual(response["Error"]["Message"],
                         "1 validation error detected: Value '" + "x" * 65 + "' at 'Name' failed "
                         "to satisfy constraint: Member must have length less than or equal to 64")
        rc, out, err = self.emulator.aws("scheduler", "list-schedules")
        self.assertEqual((rc, out), (0, {"Schedules": []}), err)
        rc, out, err = self.emulator.aws("fis", "list-target-resource-types")
        self.assertIn("(UnknownOperationException) when calling the ListTargetResourceTypes "
                      "operation", err)

    # Smithy RPC v2 CBOR (CloudWatch): botocore 1.43 speaks it; errors come back as CBOR.
    def test_rpc_v2_cbor(self):
        cloudwatch = self.emulator.client("cloudwatch", validate=False)
        response = self.error_of(lambda: cloudwatch.put_metric_data(MetricData=[]))
        self.assertEqual(response["Error"]["Code"], "ValidationException")
        self.assertEqual(response["Error"]["Message"],
                         "1 validation error detected: Value null at 'Namespace' failed to "
                         "satisfy constraint: Member must not be null")
        status, headers, body = self.emulator.request(
            "POST", "/service/GraniteServiceVersion20100801/operation/ListDashboards",
            cbor({"DashboardNamePrefix": "web"}),
            {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor",
             "Accept": "application/cbor"})
        self.assertEqual(status, 400)
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(uncbor(body), {"__type": "UnknownOperationException",
                                        "message": "understudy does not implement CloudWatch "
                                                   "ListDashboards yet"})

    # awsJson1_0 (CloudWatch's JSON protocol, which older SDKs use).
    def test_json10(self):
        status, headers, body = self.emulator.request(
            "POST", "/", json.dumps({"Namespace": 5}),
            {"Content-Type": "application/x-amz-json-1.0",
             "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"})
        self.assertEqual(status, 400)
        self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.0")
        self.assertEqual(json.loads(body), {"__type": "SerializationException",
                                            "message": "expected a string at 'Namespace', found number 5"})

    # Malformed bodies get the protocol's error and change nothing; the server keeps serving.
    def test_malformed_bodies(self):
        cases = [
            ({"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECS_TARGET + "ListClusters"},
             b"{", 400, "SerializationException",
             "the request body is not valid JSON: [json.exception.parse_error.101] parse error at "
             "line 1, column 2: syntax error while parsing object key - unexpected end of input; "
             "expected string literal"),
            ({"Content-Type": "text/plain", "X-Amz-Target": ECS_TARGET + "ListClusters"},
             b"{}", 400, "SerializationException",
             "Content-Type 'text/plain' is not supported; expected application/x-amz-json-1.1"),
            ({"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECS_TARGET + "CreateCluster"},
             b'{"clusterName": "\xff"}', 400, "SerializationException",
             "the request body is not valid UTF-8"),
            ({"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECS_TARGET + "ListClusters"},
             b"[1]", 400, "SerializationException",
             "the request body must be a JSON object, found array"),
            ({"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECS_TARGET + "Frobnicate"},
             b"{}", 400, "UnknownOperationException", "The operation Frobnicate is not valid for ECS."),
        ]
        for headers, body, status, code, message in cases:
            with self.subTest(code=code, message=message):
                got_status, _, raw = self.emulator.request("POST", "/", body, headers)
                self.assertEqual(got_status, status)
                self.assertEqual(json.loads(raw), {"__type": code, "message": message})
        # Query protocol: bad escapes and unknown actions come back as XML errors.
        status, _, raw = self.emulator.request(
            "POST", "/", "Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=%zz",
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>MalformedQueryString</Code>", raw)
        status, _, raw = self.emulator.request(
            "POST", "/", "Action=Frobnicate&Version=2015-12-01",
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidAction</Code><Message>The action Frobnicate is not valid for "
                      b"this web service.</Message>", raw)
        # CBOR that is not a map.
        status, _, raw = self.emulator.request(
            "POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", cbor([1]),
            {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
        self.assertEqual(status, 400)
        self.assertEqual(uncbor(raw)["message"], "the request body must be a CBOR map, found array")
        # A request no protocol claims.
        status, _, raw = self.emulator.request("GET", "/nowhere")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(raw)["__type"], "UnknownOperationException")
        self.assertEqual(self.emulator.client("ecs").list_clusters()["clusterArns"], [])
        self.assertStillServing()

    # An oversized body is refused with 413 in the request's protocol, without reading it all.
    def test_oversized_body(self):
        with socket.create_connection(("127.0.0.1", self.emulator.port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                      b"X-Amz-Target: " + ECS_TARGET.encode() + b"ListClusters\r\n"
                      b"Content-Length: 60000000\r\n\r\n{")
            answer = s.recv(65536).decode()
        self.assertTrue(answer.startswith("HTTP/1.1 413 "), answer)
        self.assertIn('"__type":"RequestEntityTooLargeException"', answer)
        self.assertIn("the request body is larger than this endpoint accepts (50331648 bytes)", answer)
        self.assertStillServing()

    # Malformed HTTP gets 400 and the connection closes; other clients are unaffected.
    def test_malformed_http(self):
        for raw in [b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]:
            with self.subTest(raw=raw):
                with socket.create_connection(("127.0.0.1", self.emulator.port), timeout=10) as s:
                    s.sendall(raw)
                    answer = s.recv(65536).decode(errors="replace")
                self.assertTrue(answer.startswith("HTTP/1.1 400 "), answer)
        # A client that opens a connection and says nothing does not block others.
        with socket.create_connection(("127.0.0.1", self.emulator.port), timeout=10):
            self.assertStillServing()

    # Keep-alive: many requests on one connection, each answered in order.
    def test_keep_alive(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.emulator.port, timeout=10)
        for _ in range(50):
            conn.request("POST", "/", body="{}", headers={
                "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECS_TARGET + "ListClusters"})
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(json.loads(response.read()), {"clusterArns": []})
        conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
