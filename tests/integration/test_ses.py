"""SES through the real AWS CLI, boto3, swaks and Python's smtplib (aws-semantics §5, §7.4, §7.5):
every send path lands in one store that the read side under /_understudy/ses/ lists, searches and
waits on; sandbox rules, the mailbox simulator, events and SMTP misuse answer as SES does."""
import base64
import email
import email.policy
import json
import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from email.message import EmailMessage

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
SENDER = "noreply@example.org"


def error_of(call):
    try:
        call()
    except Exception as e:  # botocore ClientError
        return e.response["Error"]
    raise AssertionError("the call succeeded")


class SesTestBase(unittest.TestCase):
    ARGS = ("--ses-max-send-rate", "0")

    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY, *cls.ARGS).start()
        cls.ses = cls.emulator.client("ses")
        cls.sesv2 = cls.emulator.client("sesv2")

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.emulator.post("/_understudy/reset")

    def read(self, path, expect=200):
        status, headers, body = self.emulator.request("GET", path)
        self.assertEqual(status, expect, body)
        return body

    def messages(self, **query):
        body = self.read("/_understudy/ses/messages?" + urllib.parse.urlencode(query))
        return json.loads(body)["messages"]

    def verify(self, *identities):
        for identity in identities:
            if "@" in identity:
                self.ses.verify_email_identity(EmailAddress=identity)
            else:
                self.ses.verify_domain_identity(Domain=identity)


class SendPathsTest(SesTestBase):
    # The walk-through: CLI verify + sesv2 send-email, then list by recipient.
    def test_cli_v2_send_email_lands_in_the_store(self):
        rc, out, err = self.emulator.aws("ses", "verify-email-identity", "--email-address", SENDER)
        self.assertEqual(rc, 0, err)
        self.verify("ada@example.org")
        rc, out, err = self.emulator.aws(
            "sesv2", "send-email", "--from-email-address", SENDER, "--destination",
            "ToAddresses=ada@example.org", "--content",
            "Simple={Subject={Data=Hi},Body={Text={Data=Hello}}}")
        self.assertEqual(rc, 0, err)
        message_id = out["MessageId"]
        self.assertRegex(message_id, r"^[0-9a-f]{16}-[0-9a-f-]{36}-000000$")
        [m] = self.messages(to="ada@example.org")
        self.assertEqual((m["id"], m["subject"], m["via"], m["source"]),
                         (message_id, "Hi", "sesv2.SendEmail", SENDER))
        full = json.loads(self.read(f"/_understudy/ses/messages/{message_id}"))
        self.assertEqual(full["text"], "Hello")
        self.assertEqual(full["messageId"], f"<{message_id}@email.amazonses.com>")
        raw = self.read(f"/_understudy/ses/messages/{message_id}/raw")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(parsed["Subject"], "Hi")
        self.assertEqual(parsed["To"], "ada@example.org")

    # v1 SendEmail through the CLI and boto3, HTML and text, Cc and Bcc recipients.
    def test_v1_send_email(self):
        self.verify("example.org")
        rc, out, err = self.emulator.aws("ses", "send-email", "--from", SENDER, "--to",
                                         "ada@example.org", "--subject", "V1", "--html",
                                         "<b>hi</b>")
        self.assertEqual(rc, 0, err)
        # Display names must be MIME encoded words (§5.2): raw UTF-8 is refused.
        error = error_of(lambda: self.ses.send_email(
            Source="Zoë <noreply@example.org>", Destination={"ToAddresses": ["bob@example.org"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}))
        self.assertEqual(error["Code"], "InvalidParameterValue")
        response = self.ses.send_email(
            Source="=?UTF-8?B?Wm/Dqw==?= <noreply@example.org>",
            Destination={"ToAddresses": ["bob@example.org"], "CcAddresses": ["cc@example.org"],
                         "BccAddresses": ["hidden@example.org"]},
            Message={"Subject": {"Data": "Grüße"},
                     "Body": {"Text": {"Data": "Code: 731904"}, "Html": {"Data": "<p>Ünïcode</p>"}}})
        [m] = self.messages(to="hidden@example.org")
        self.assertEqual(m["id"], response["MessageId"])
        self.assertEqual(m["bcc"], ["hidden@example.org"])
        self.assertEqual(m["from"], [{"name": "Zoë", "address": SENDER}])
        full = json.loads(self.read(f"/_understudy/ses/messages/{m['id']}"))
        self.assertEqual((full["subject"], full["text"], full["html"]),
                         ("Grüße", "Code: 731904", "<p>Ünïcode</p>"))
        self.assertEqual(full["codes"], ["731904"])
        raw = self.read(f"/_understudy/ses/messages/{m['id']}/raw").decode()
        self.assertNotIn("hidden@example.org", raw)  # Bcc is envelope only
        self.assertEqual(self.read(f"/_understudy/ses/messages/{m['id']}/html").decode(), "<p>Ünïcode</p>")
        self.assertEqual(self.messages(to="ada@example.org")[0]["subject"], "V1")

    # SendRawEmail keeps the bytes exactly; attachments are listed and downloadable.
    def test_send_raw_email_with_attachment(self):
        self.verify(SENDER)
        msg = EmailMessage()
        msg["From"] = SENDER
        msg["To"] = "success@simulator.amazonses.com"
        msg["Subject"] = "Rapport — été"
        msg.set_content("Voir la pièce jointe.\nhttps://example.org/reports/42?x=1\n")
        msg.add_alternative("<p>Voir <a href=\"https://example.org/r?a=1&amp;b=2\">ici</a></p>",
                            subtype="html")
        pdf = b"%PDF-1.4\n\x00\x01\x02binary"
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="résumé.pdf")
        raw = msg.as_bytes()
        response = self.ses.send_raw_email(RawMessage={"Data": raw})
        mid = response["MessageId"]
        self.assertEqual(self.read(f"/_understudy/ses/messages/{mid}/raw"), raw)
        full = json.loads(self.read(f"/_understudy/ses/messages/{mid}"))
        self.assertEqual(full["subject"], "Rapport — été")
        self.assertEqual(full["text"], "Voir la pièce jointe.\nhttps://example.org/reports/42?x=1\n")
        self.assertEqual(full["links"], ["https://example.org/r?a=1&b=2", "https://example.org/reports/42?x=1"])
        [attachment] = full["attachments"]
        self.assertEqual((attachment["fileName"], attachment["contentType"], attachment["size"]),
                         ("résumé.pdf", "application/pdf", len(pdf)))
        body = self.read(f"/_understudy/ses/messages/{mid}/attachments/{attachment['partId']}")
        self.assertEqual(body, pdf)
        # The same through SES v2's Raw content (boto3).
        v2 = self.sesv2.send_email(Content={"Raw": {"Data": raw}})
        self.assertEqual(self.read(f"/_understudy/ses/messages/{v2['MessageId']}/raw"), raw)

    # Malformed raw messages are refused and nothing is stored.
    def test_raw_errors(self):
        self.verify(SENDER)
        error = error_of(lambda: self.ses.send_raw_email(
            RawMessage={"Data": b"From: noreply@example.org\r\nnot a header\r\n\r\nx"}))
        self.assertEqual(error, {"Type": "Sender", "Code": "InvalidParameterValue",
                                 "Message": "Illegal header line: 'not a header'"})
        error = error_of(lambda: self.ses.send_raw_email(
            RawMessage={"Data": b"Subject: no from\r\nTo: a@example.org\r\n\r\nx"}))
        self.assertEqual(error["Message"], "Missing required header 'From'.")
        big = b"From: noreply@example.org\r\nTo: success@simulator.amazonses.com\r\n\r\n" + b"x" * (10 * 1024 * 1024)
        error = error_of(lambda: self.ses.send_raw_email(RawMessage={"Data": big}))
        self.assertEqual(error["Code"], "InvalidParameterValue")
        self.assertTrue(error["Message"].startswith("Message length is more than 10485760 bytes long"))
        self.assertEqual(self.messages(), [])

    # Templates: CRUD on v1 and v2, TestRenderTemplate, templated and bulk sends.
    def test_templates(self):
        self.verify("example.org")
        self.ses.create_template(Template={
            "TemplateName": "welcome", "SubjectPart": "Welcome {{name}}",
            "TextPart": "Hi {{name}},{{#each items}} {{this}}{{/each}}{{#if vip}} VIP{{/if}}",
            "HtmlPart": "<h1>{{name}}</h1>"})
        error = error_of(lambda: self.ses.create_template(Template={"TemplateName": "welcome", "SubjectPart": "x"}))
        self.assertEqual(error["Code"], "AlreadyExists")
        error = error_of(lambda: self.ses.create_template(
            Template={"TemplateName": "broken", "SubjectPart": "{{#if a}}x"}))
        self.assertEqual(error, {"Type": "Sender", "Code": "InvalidTemplate",
                                 "Message": "Template broken is invalid: Unclosed block: {{#if a}}"})
        self.assertEqual(self.ses.get_template(TemplateName="welcome")["Template"]["SubjectPart"],
                         "Welcome {{name}}")
        self.assertEqual([t["Name"] for t in self.ses.list_templates()["TemplatesMetadata"]], ["welcome"])
        rendered = self.ses.test_render_template(
            TemplateName="welcome", TemplateData=json.dumps({"name": "Ada", "items": ["a", "b"]}))
        self.assertIn("Subject: Welcome Ada", rendered["RenderedTemplate"])
        error = error_of(lambda: self.ses.test_render_template(TemplateName="welcome", TemplateData="{}"))
        self.assertEqual(error["Code"], "MissingRenderingAttribute")
        self.assertEqual(error["Message"], "Attribute 'name' is not present in the rendering data.")
        error = error_of(lambda: self.ses.get_template(TemplateName="nope"))
        self.assertEqual(error, {"Type": "Sender", "Code": "TemplateDoesNotExist",
                                 "Message": "Template nope does not exist."})
        r = self.ses.send_templated_email(
            Source=SENDER, Destination={"ToAddresses": ["ada@example.org"]}, Template="welcome",
            TemplateData=json.dumps({"name": "Ada", "items": ["x", "y"], "vip": True}))
        full = json.loads(self.read(f"/_understudy/ses/messages/{r['MessageId']}"))
        self.assertEqual((full["subject"], full["text"], full["html"]),
                         ("Welcome Ada", "Hi Ada, x y VIP", "<h1>Ada</h1>"))
        self.assertEqual(full["template"], {"name": "welcome", "data": json.dumps(
            {"name": "Ada", "items": ["x", "y"], "vip": True})})
        error = error_of(lambda: self.ses.send_templated_email(
            Source=SENDER, Destination={"ToAddresses": ["ada@example.org"]}, Template="nope", TemplateData="{}"))
        self.assertEqual(error["Code"], "TemplateDoesNotExist")
        bulk = self.ses.send_bulk_templated_email(
            Source=SENDER, Template="welcome", DefaultTemplateData=json.dumps({"name": "Friend"}),
            Destinations=[{"Destination": {"ToAddresses": ["b1@example.org"]},
                           "ReplacementTemplateData": json.dumps({"name": "Bea"})},
                          {"Destination": {"ToAddresses": ["b2@example.org"]}},
                          {"Destination": {"ToAddresses": ["not-an-address"]}}])
        statuses = bulk["Status"]
        self.assertEqual([s["Status"] for s in statuses], ["Success", "Success", "InvalidParameterValue"])
        self.assertEqual(self.messages(to="b1@example.org")[0]["subject"], "Welcome Bea")
        self.assertEqual(self.messages(to="b2@example.org")[0]["subject"], "Welcome Friend")
        # v2 templates and a v2 templated send.
        self.sesv2.create_email_template(TemplateName="v2", TemplateContent={
            "Subject": "Code {{code}}", "Text": "Your code is {{code}}"})
        self.assertEqual(self.sesv2.get_email_template(TemplateName="v2")["TemplateContent"],
                         {"Subject": "Code {{code}}", "Text": "Your code is {{code}}"})
        r = self.sesv2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": ["c@example.org"]},
                                  Content={"Template": {"TemplateName": "v2", "TemplateData": '{"code": "884211"}'}})
        full = json.loads(self.read(f"/_understudy/ses/messages/{r['MessageId']}"))
        self.assertEqual((full["subject"], full["codes"]), ("Code 884211", ["884211"]))
        error = error_of(lambda: self.sesv2.get_email_template(TemplateName="nope"))
        self.assertEqual((error["Code"], error["Message"]), ("NotFoundException", "Template nope does not exist."))
        bulk = self.sesv2.send_bulk_email(
            FromEmailAddress=SENDER,
            DefaultContent={"Template": {"TemplateName": "v2", "TemplateData": '{"code": "1"}'}},
            BulkEmailEntries=[{"Destination": {"ToAddresses": ["d@example.org"]},
                               "ReplacementEmailContent": {"ReplacementTemplate": {
                                   "ReplacementTemplateData": '{"code": "2222"}'}}}])
        self.assertEqual(bulk["BulkEmailEntryResults"][0]["Status"], "SUCCESS")
        self.assertEqual(self.messages(to="d@example.org")[0]["subject"], "Code 2222")

    # Missing template data: a MessageId, no message, a Rendering Failure event (§5.3).
    def test_rendering_failure(self):
        self.verify("example.org")
        self.ses.create_template(Template={"TemplateName": "t", "SubjectPart": "Hi {{name}}"})
        r = self.ses.send_templated_email(Source=SENDER, Destination={"ToAddresses": ["a@example.org"]},
                                          Template="t", TemplateData="{}")
        self.assertEqual(self.messages(), [])
        events = json.loads(self.read(f"/_understudy/ses/events?messageId={r['MessageId']}"))["events"]
        self.assertEqual([e["eventType"] for e in events], ["Rendering Failure"])
        self.assertEqual(events[0]["record"]["failure"],
                         {"errorMessage": "Attribute 'name' is not present in the rendering data.",
                          "templateName": "t"})


class RulesTest(SesTestBase):
    # Unverified sender or (sandbox) recipient: MessageRejected with the upper-case region.
    def test_sandbox_rejections(self):
        error = error_of(lambda: self.ses.send_email(
            Source=SENDER, Destination={"ToAddresses": ["a@x.com", "b@y.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}))
        self.assertEqual(error, {"Type": "Sender", "Code": "MessageRejected",
                                 "Message": "Email address is not verified. The following identities "
                                            "failed the check in region US-EAST-1: noreply@example.org, "
                                            "a@x.com, b@y.com"})
        self.verify(SENDER)
        eu = self.emulator.client("sesv2", region="eu-west-1")
        error = error_of(lambda: eu.send_email(
            FromEmailAddress=SENDER, Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}))
        self.assertEqual((error["Code"], error["Message"]),
                         ("MessageRejected", "Email address is not verified. The following identities "
                                             "failed the check in region EU-WEST-1: noreply@example.org"))
        # Simulator recipients need no verification; others do.
        self.sesv2.send_email(FromEmailAddress=SENDER,
                              Destination={"ToAddresses": ["success+x@simulator.amazonses.com"]},
                              Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}})
        error = error_of(lambda: self.sesv2.send_email(
            FromEmailAddress=SENDER, Destination={"ToAddresses": ["Ada@Example.org"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}))
        self.assertEqual(error["Message"], "Email address is not verified. The following identities "
                                           "failed the check in region US-EAST-1: Ada@Example.org")
        # Out of the sandbox any recipient goes.
        status, account = self.emulator.post("/_understudy/ses/account", {"sandbox": False})
        self.assertEqual((status, account["sandbox"], account["max24HourSend"]), (200, False, 50000.0))
        self.sesv2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": ["Ada@Example.org"]},
                              Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}})
        self.assertTrue(self.sesv2.get_account()["ProductionAccessEnabled"])
        self.assertEqual(len(self.messages(to="ada@example.org")), 1)

    # Bad addresses and recipient counts: SES's errors, nothing stored.
    def test_bad_input(self):
        self.verify("example.org")
        cases = [
            ({"ToAddresses": ["no-at-sign"]}, "Missing final '@domain'"),
            ({"ToAddresses": ["a@bad_domain.org"]}, "Domain contains illegal character"),
            ({"ToAddresses": [f"r{i}@example.org" for i in range(51)]}, "Recipient count exceeds 50."),
        ]
        for destination, message in cases:
            error = error_of(lambda: self.ses.send_email(
                Source=SENDER, Destination=destination,
                Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}))
            self.assertEqual((error["Code"], error["Message"]), ("InvalidParameterValue", message))
            error = error_of(lambda: self.sesv2.send_email(
                FromEmailAddress=SENDER, Destination=destination,
                Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}))
            self.assertEqual((error["Code"], error["Message"]), ("BadRequestException", message))
        # The Return-Path is a sender identity too.
        error = error_of(lambda: self.ses.send_email(
            Source=SENDER, ReturnPath="bounces@other.org",
            Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}))
        self.assertEqual(error["Message"], "Email address is not verified. The following identities "
                                           "failed the check in region US-EAST-1: bounces@other.org")
        error = error_of(lambda: self.sesv2.send_email(
            FromEmailAddress=SENDER, Destination={"ToAddresses": ["a@example.org"]},
            ConfigurationSetName="missing",
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}))
        self.assertEqual((error["Code"], error["Message"]),
                         ("NotFoundException", "Configuration set <missing> does not exist."))
        self.assertEqual(self.messages(), [])

    # Identities: v1 and v2 views, pending verification switch via the control API.
    def test_identities(self):
        token = self.ses.verify_domain_identity(Domain="Example.ORG")["VerificationToken"]
        self.ses.verify_email_identity(EmailAddress="a@other.org")
        self.assertEqual(self.ses.list_identities()["Identities"], ["example.org", "a@other.org"])
        self.assertEqual(self.ses.list_identities(IdentityType="EmailAddress")["Identities"], ["a@other.org"])
        attrs = self.ses.get_identity_verification_attributes(
            Identities=["example.org", "a@other.org", "unknown.org"])["VerificationAttributes"]
        self.assertEqual(attrs, {"example.org": {"VerificationStatus": "Success", "VerificationToken": token},
                                 "a@other.org": {"VerificationStatus": "Success"}})
        self.assertEqual(len(self.ses.verify_domain_dkim(Domain="example.org")["DkimTokens"]), 3)
        created = self.sesv2.create_email_identity(EmailIdentity="new@third.org")
        self.assertEqual((created["IdentityType"], created["VerifiedForSendingStatus"]), ("EMAIL_ADDRESS", True))
        error = error_of(lambda: self.sesv2.create_email_identity(EmailIdentity="new@third.org"))
        self.assertEqual(error["Code"], "AlreadyExistsException")
        got = self.sesv2.get_email_identity(EmailIdentity="example.org")
        self.assertEqual((got["IdentityType"], got["VerificationStatus"]), ("DOMAIN", "SUCCESS"))
        self.ses.delete_identity(Identity="a@other.org")
        names = [i["IdentityName"] for i in self.sesv2.list_email_identities()["EmailIdentities"]]
        self.assertEqual(names, ["example.org", "new@third.org"])
        error = error_of(lambda: self.sesv2.get_email_identity(EmailIdentity="a@other.org"))
        self.assertEqual((error["Code"], error["Message"]),
                         ("NotFoundException", "Email identity <a@other.org> does not exist."))

    # Configuration sets with an EventBridge destination put SES events on the bus in
    # EventBridge's envelope; the simulator's outcomes and the suppression list (§5.4).
    def test_simulator_events_and_suppression(self):
        self.verify("example.org")
        self.sesv2.create_configuration_set(ConfigurationSetName="cs")
        self.sesv2.create_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestinationName="eb",
            EventDestination={"Enabled": True,
                              "MatchingEventTypes": ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT"],
                              "EventBridgeDestination": {
                                  "EventBusArn": "arn:aws:events:us-east-1:000000000000:event-bus/default"}})
        dests = self.sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")["EventDestinations"]
        self.assertEqual(dests[0]["MatchingEventTypes"], ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT"])
        self.sesv2.put_suppressed_destination(EmailAddress="gone@example.org", Reason="BOUNCE")
        self.assertEqual(self.sesv2.get_suppressed_destination(EmailAddress="gone@example.org")
                         ["SuppressedDestination"]["Reason"], "BOUNCE")
        recipients = ["success@simulator.amazonses.com", "bounce+t1@simulator.amazonses.com",
                      "complaint@simulator.amazonses.com", "ooto@simulator.amazonses.com",
                      "suppressionlist@simulator.amazonses.com", "gone@example.org"]
        r = self.sesv2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": recipients},
                                  ConfigurationSetName="cs", EmailTags=[{"Name": "campaign", "Value": "c1"}],
                                  Content={"Simple": {"Subject": {"Data": "sim"}, "Body": {"Text": {"Data": "b"}}}})
        mid = r["MessageId"]
        [m] = self.messages(tag="campaign=c1")
        self.assertEqual(m["deliveredTo"], ["success@simulator.amazonses.com", "complaint@simulator.amazonses.com",
                                            "ooto@simulator.amazonses.com"])
        self.assertEqual(self.messages(to="gone@example.org"), [])
        events = json.loads(self.read(f"/_understudy/ses/events?messageId={mid}"))["events"]
        self.assertEqual([e["eventType"] for e in events], ["Send", "Delivery", "Bounce", "Complaint"])
        bounce = events[2]["record"]["bounce"]
        self.assertEqual([b["emailAddress"] for b in bounce["bouncedRecipients"]],
                         ["bounce+t1@simulator.amazonses.com", "suppressionlist@simulator.amazonses.com",
                          "gone@example.org"])
        self.assertEqual(events[0]["record"]["mail"]["tags"]["ses:configuration-set"], ["cs"])
        # The ooto auto-reply comes back to the sender.
        [reply] = self.messages(to=SENDER)
        self.assertEqual(reply["subject"], "Out of the office: sim")
        # EventBridge's envelope on the internal bus.
        status, bus = self.emulator.get("/_understudy/bus")
        ses_events = [e for e in bus["events"] if e["source"] == "aws.ses"]
        self.assertEqual([e["detail-type"] for e in ses_events],
                         ["Email Sent", "Email Delivered", "Email Bounced", "Email Complaint Received"])
        self.assertEqual(ses_events[0]["resources"], ["arn:aws:ses:us-east-1:000000000000:configuration-set/cs"])
        self.assertEqual(ses_events[0]["detail"]["mail"]["messageId"], mid)
        # Deleting from the suppression list lets mail through again.
        self.sesv2.delete_suppressed_destination(EmailAddress="gone@example.org")
        self.assertEqual(self.sesv2.list_suppressed_destinations()["SuppressedDestinationSummaries"], [])
        error = error_of(lambda: self.sesv2.get_suppressed_destination(EmailAddress="gone@example.org"))
        self.assertEqual(error["Code"], "NotFoundException")

    # v1 configuration sets and GetSendStatistics.
    def test_v1_configuration_sets_and_statistics(self):
        self.ses.create_configuration_set(ConfigurationSet={"Name": "v1cs"})
        error = error_of(lambda: self.ses.create_configuration_set(ConfigurationSet={"Name": "v1cs"}))
        self.assertEqual((error["Code"], error["Message"]),
                         ("ConfigurationSetAlreadyExists", "Configuration set <v1cs> already exists."))
        self.ses.create_configuration_set_event_destination(
            ConfigurationSetName="v1cs", EventDestination={
                "Name": "sns", "Enabled": True, "MatchingEventTypes": ["send", "bounce"],
                "SNSDestination": {"TopicARN": "arn:aws:sns:us-east-1:000000000000:t"}})
        described = self.ses.describe_configuration_set(ConfigurationSetName="v1cs")
        self.assertEqual(described["EventDestinations"][0]["SNSDestination"]["TopicARN"],
                         "arn:aws:sns:us-east-1:000000000000:t")
        error = error_of(lambda: self.ses.describe_configuration_set(ConfigurationSetName="x"))
        self.assertEqual(error["Code"], "ConfigurationSetDoesNotExist")
        self.verify(SENDER)
        self.ses.send_email(Source=SENDER, ConfigurationSetName="v1cs",
                            Destination={"ToAddresses": ["bounce@simulator.amazonses.com"]},
                            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        points = self.ses.get_send_statistics()["SendDataPoints"]
        self.assertEqual([(p["DeliveryAttempts"], p["Bounces"]) for p in points], [(1, 1)])
        events = json.loads(self.read("/_understudy/ses/events?type=Bounce"))["events"]
        self.assertEqual(events[0]["publishedTo"], [{"name": "sns", "kind": "sns"}])
        quota = self.ses.get_send_quota()
        self.assertEqual(quota["Max24HourSend"], 200.0)


class QuotaTest(SesTestBase):
    ARGS = ("--clock", "virtual", "--start", "2026-11-23T08:00:00Z")

    # 1 message/s and 200 recipients/24 h on the emulator's clock (§5.2).
    def test_rate_and_daily_quota(self):
        self.verify("example.org")
        send = lambda to: self.ses.send_email(
            Source=SENDER, Destination={"ToAddresses": to},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        send(["a@example.org"])
        error = error_of(lambda: send(["b@example.org"]))
        self.assertEqual(error, {"Type": "Sender", "Code": "Throttling", "Message": "Maximum sending rate exceeded."})
        self.emulator.post("/_understudy/clock", {"advance": "1s"})
        send(["b@example.org"])
        quota = self.ses.get_send_quota()
        self.assertEqual((quota["Max24HourSend"], quota["MaxSendRate"], quota["SentLast24Hours"]),
                         (200.0, 1.0, 2.0))
        self.emulator.post("/_understudy/ses/account", {"maxSendRate": 0, "max24HourSend": 3})
        send(["c@example.org"])
        error = error_of(lambda: send(["d@example.org"]))
        self.assertEqual(error["Message"], "Daily message quota exceeded.")
        self.emulator.post("/_understudy/clock", {"advance": "24h"})
        send(["d@example.org"])
        self.emulator.post("/_understudy/ses/account", {"sendingEnabled": False})
        error = error_of(lambda: send(["e@example.org"]))
        self.assertEqual(error["Code"], "AccountSendingPausedException")


class ReadSideTest(SesTestBase):
    def send(self, to, subject, text="body", tags=None):
        kwargs = {"EmailTags": tags} if tags else {}
        return self.sesv2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": [to]},
                                     Content={"Simple": {"Subject": {"Data": subject},
                                                         "Body": {"Text": {"Data": text}}}},
                                     **kwargs)["MessageId"]

    def setUp(self):
        super().setUp()
        self.emulator.post("/_understudy/ses/account", {"sandbox": False, "maxSendRate": 0})
        self.verify("example.org")

    # Filters, latest, delete by id and by query, mailbox scoping, /_aws/ses.
    def test_filters_latest_delete_and_localstack_shape(self):
        a = self.send("ada@x.org", "Welcome Ada", "Your code is 123456")
        b = self.send("bob@x.org", "Reset password", "Go to https://app.example.org/reset?t=zz",
                      tags=[{"Name": "understudy-mailbox", "Value": "test-7"}])
        self.assertEqual([m["id"] for m in self.messages()], [b, a])
        self.assertEqual([m["id"] for m in self.messages(subject="welcome")], [a])
        self.assertEqual([m["id"] for m in self.messages(q="reset?t=zz")], [b])
        self.assertEqual([m["id"] for m in self.messages(mailbox="test-7")], [b])
        self.assertEqual(self.messages(**{"from": "other@example.org"}), [])
        status, headers, body = self.emulator.request(
            "GET", "/_understudy/ses/messages", headers={"X-Understudy-Mailbox": "test-7"})
        self.assertEqual([m["id"] for m in json.loads(body)["messages"]], [b])
        latest = json.loads(self.read("/_understudy/ses/messages/latest"))
        self.assertEqual((latest["id"], latest["links"]), (b, ["https://app.example.org/reset?t=zz"]))
        latest = json.loads(self.read("/_understudy/ses/latest?to=ada@x.org"))
        self.assertEqual((latest["id"], latest["codes"]), (a, ["123456"]))
        self.assertEqual(self.read(f"/_understudy/ses/messages/{a}.txt").decode(), "Your code is 123456")
        # A message's events carry SES's mail object (made from the stored message).
        events = json.loads(self.read(f"/_understudy/ses/messages/{a}/events"))["events"]
        self.assertEqual([e["eventType"] for e in events], ["Send", "Delivery"])
        mail = events[1]["record"]["mail"]
        self.assertEqual((mail["messageId"], mail["source"], mail["destination"], mail["commonHeaders"]["subject"]),
                         (a, SENDER, ["ada@x.org"], "Welcome Ada"))
        self.assertEqual(events[1]["record"]["delivery"]["recipients"], ["ada@x.org"])
        status, body = self.emulator.get("/_aws/ses")
        shape = body["messages"][0]
        self.assertEqual({k: shape[k] for k in ("Id", "Region", "Source", "Subject")},
                         {"Id": a, "Region": "us-east-1", "Source": SENDER, "Subject": "Welcome Ada"})
        self.assertEqual(shape["Destination"]["ToAddresses"], ["ada@x.org"])
        self.assertEqual(shape["Body"]["text_part"], "Your code is 123456")
        status, _, _ = self.emulator.request("DELETE", f"/_aws/ses?id={a}")
        self.assertEqual(status, 204)
        self.assertEqual([m["id"] for m in self.messages()], [b])
        status, _, body = self.emulator.request("DELETE", "/_understudy/ses/messages?to=bob@x.org")
        self.assertEqual(json.loads(body), {"deleted": 1})
        status, _, body = self.emulator.request("DELETE", f"/_understudy/ses/messages/{b}")
        self.assertEqual((status, json.loads(body)["error"]), (404, "MessageNotFound"))
        self.read("/_understudy/ses/messages/latest", expect=404)

    # wait returns as soon as the message is stored, not at the timeout.
    def test_wait_wakes_on_arrival(self):
        result = {}

        def waiter():
            result["response"] = self.emulator.request(
                "GET", "/_understudy/ses/wait?to=late@x.org&count=2&timeout=30s")

        thread = threading.Thread(target=waiter)
        started = time.monotonic()
        thread.start()
        # The wait is registered once the server sees it; sending first is also fine,
        # since a wait counts messages already stored.
        self.send("late@x.org", "one")
        self.send("late@x.org", "two")
        thread.join(20)
        self.assertFalse(thread.is_alive())
        self.assertLess(time.monotonic() - started, 10)
        status, _, body = result["response"]
        self.assertEqual(status, 200, body)
        self.assertEqual([m["subject"] for m in json.loads(body)["messages"]], ["one", "two"])

    # A wait that times out says what it expected and what did arrive.
    def test_wait_timeout_lists_what_arrived(self):
        self.send("someone@x.org", "Other mail")
        status, _, body = self.emulator.request("GET", "/_understudy/ses/wait?to=nobody@x.org&timeout=200ms")
        answer = json.loads(body)
        self.assertEqual((status, answer["error"]), (408, "WaitTimeout"))
        self.assertTrue(answer["message"].startswith(
            "expected 1 message(s) matching to=nobody@x.org within 200ms; 0 matched. Most recent messages stored:"),
            answer["message"])
        self.assertIn('to=someone@x.org from=noreply@example.org subject="Other mail"', answer["message"])
        # since=now counts only messages stored after the wait began.
        status, _, body = self.emulator.request(
            "GET", "/_understudy/ses/wait?to=someone@x.org&since=now&timeout=100ms")
        self.assertEqual(status, 408, body)
        # The control API's wait knows SES messages too.
        status, answer = self.emulator.post("/_understudy/wait", {"until": {"sesMessages": {"to": "someone@x.org"}},
                                                                  "timeout": "1s"})
        self.assertEqual((status, answer["met"]), (200, True))


class SmtpTest(SesTestBase):
    ARGS = ("--ses-max-send-rate", "0", "--ses-production")

    def ca_context(self):
        pem = self.read("/_understudy/elb/ca.pem").decode()
        return ssl.create_default_context(cadata=pem)

    # swaks (the example) over plain SMTP lands in the same store.
    @unittest.skipUnless(shutil.which("swaks"), "swaks is not installed (scripts/setup.sh)")
    def test_swaks(self):
        self.verify(SENDER)
        proc = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.emulator.smtp_port}",
                               "--from", SENDER, "--to", "bob@example.org",
                               "--header", "Subject: via swaks", "--body", "hello from swaks"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout, r"<-  250 Ok [0-9a-f]{16}-")
        status, _, body = self.emulator.request("GET", "/_understudy/ses/wait?to=bob@example.org&count=1&timeout=10s")
        self.assertEqual(status, 200)
        m = json.loads(body)["messages"][0]
        self.assertEqual((m["subject"], m["via"], m["text"].strip()), ("via swaks", "smtp", "hello from swaks"))
        # swaks with STARTTLS and AUTH LOGIN.
        proc = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.emulator.smtp_port}", "--tls",
                               "--tls-verify", "--tls-ca-path", self.write_ca(),
                               "--auth", "LOGIN", "--auth-user", "AKIAEXAMPLE", "--auth-password", "pw",
                               "--from", SENDER, "--to", "tls@example.org"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(len(self.messages(to="tls@example.org")), 1)

    def write_ca(self):
        path = os.path.join(tempfile.mkdtemp(), "ca.pem")
        with open(path, "wb") as f:
            f.write(self.read("/_understudy/elb/ca.pem"))
        self.addCleanup(shutil.rmtree, os.path.dirname(path))
        return path

    # smtplib: STARTTLS with the local CA, AUTH PLAIN, an SES rejection as 554.
    def test_smtplib_starttls_auth_and_rejections(self):
        self.verify(SENDER)
        with smtplib.SMTP("127.0.0.1", self.emulator.smtp_port, timeout=10) as smtp:
            smtp.starttls(context=self.ca_context())
            smtp.login("AKIAEXAMPLE", "secret")
            msg = EmailMessage()
            msg["From"] = SENDER
            msg["To"] = "carol@example.org"
            msg["Subject"] = "Über TLS"
            msg["X-SES-CONFIGURATION-SET"] = "none"
            msg.set_content("ünïcode body")
            with self.assertRaises(smtplib.SMTPDataError) as caught:
                smtp.send_message(msg)
            self.assertEqual(caught.exception.smtp_code, 554)
            self.assertEqual(caught.exception.smtp_error.decode(),
                             "Transaction failed: Configuration set <none> does not exist.")
            del msg["X-SES-CONFIGURATION-SET"]
            smtp.send_message(msg)
            with self.assertRaises(smtplib.SMTPDataError) as caught:
                smtp.sendmail("stranger@unverified.org", ["carol@example.org"], msg.as_bytes())
            self.assertEqual(caught.exception.smtp_error.decode(),
                             "Message rejected: Email address is not verified. The following identities "
                             "failed the check in region US-EAST-1: stranger@unverified.org")
            with self.assertRaises(smtplib.SMTPDataError) as caught:
                smtp.sendmail(SENDER, ["carol@example.org"], b"From: noreply@example.org\r\nbroken header\r\n\r\nx")
            self.assertEqual((caught.exception.smtp_code, caught.exception.smtp_error),
                             (554, b"Transaction failed: Illegal header line: 'broken header'"))
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
                smtp.sendmail(SENDER, ["bad-address"], msg.as_bytes())
            self.assertEqual(caught.exception.recipients["bad-address"],
                             (553, b"5.1.3 <bad-address> address unknown"))
        [m] = self.messages(to="carol@example.org")
        self.assertEqual(m["subject"], "Über TLS")
        full = json.loads(self.read(f"/_understudy/ses/messages/{m['id']}"))
        self.assertEqual(full["text"], "ünïcode body\n")


class SmtpLimitsTest(SesTestBase):
    ARGS = ("--smtp-max-connections", "2")

    # Past the connection limit a client hears 421 and is closed (§5.5).
    def test_too_many_connections(self):
        port = self.emulator.smtp_port
        first = smtplib.SMTP("127.0.0.1", port, timeout=10)
        second = smtplib.SMTP("127.0.0.1", port, timeout=10)
        with self.assertRaises(smtplib.SMTPConnectError) as caught:
            smtplib.SMTP("127.0.0.1", port, timeout=10)
        self.assertEqual((caught.exception.smtp_code, caught.exception.smtp_error),
                         (421, b"Too many concurrent SMTP connections"))
        first.quit()
        second.quit()


class SmtpIdleTest(SesTestBase):
    ARGS = ("--clock", "virtual", "--smtp-idle-timeout", "5m")

    # A connection idle for the timeout (clock time) hears 451 and is closed (§5.5).
    def test_idle_timeout(self):
        smtp = smtplib.SMTP("127.0.0.1", self.emulator.smtp_port, timeout=10)
        self.assertEqual(smtp.ehlo()[0], 250)
        status, _ = self.emulator.post("/_understudy/clock", {"advance": "4m"})
        self.assertEqual(smtp.noop()[0], 250)  # activity restarts the timer
        self.emulator.post("/_understudy/clock", {"advance": "5m"})
        self.assertEqual(smtp.getreply(), (451, b"4.4.2 Timeout waiting for data from client"))
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            smtp.noop()
        smtp.close()


class StrictSmtpTest(SesTestBase):
    ARGS = ("--ses-max-send-rate", "0", "--smtp-require-auth", "--smtp-credentials", "AKIAUSER:s3cret")

    # SES's own rules: STARTTLS before AUTH, AUTH before MAIL, only valid credentials.
    def test_require_tls_and_auth(self):
        self.verify(SENDER, "example.org")
        pem = self.read("/_understudy/elb/ca.pem").decode()
        with smtplib.SMTP("127.0.0.1", self.emulator.smtp_port, timeout=10) as smtp:
            smtp.ehlo()
            self.assertNotIn("auth", smtp.esmtp_features)
            code, reply = smtp.docmd("MAIL", "FROM:<noreply@example.org>")
            self.assertEqual((code, reply), (530, b"Must issue a STARTTLS command first"))
            smtp.starttls(context=ssl.create_default_context(cadata=pem))
            smtp.ehlo()
            code, reply = smtp.docmd("MAIL", "FROM:<noreply@example.org>")
            self.assertEqual((code, reply), (530, b"Authentication required"))
            with self.assertRaises(smtplib.SMTPAuthenticationError) as caught:
                smtp.login("AKIAUSER", "wrong")
            self.assertEqual(caught.exception.smtp_code, 535)
            smtp.login("AKIAUSER", "s3cret")
            smtp.sendmail(SENDER, ["x@example.org"], b"From: noreply@example.org\r\nSubject: ok\r\n\r\nhi\r\n")
        self.assertEqual(self.messages(to="x@example.org")[0]["subject"], "ok")


class PendingVerificationTest(SesTestBase):
    ARGS = ("--ses-max-send-rate", "0", "--ses-verification", "pending", "--ses-retention", "24h",
            "--smtps-port", "0")

    # Identities stay Pending (and cannot send) until the control API verifies them.
    def test_pending_until_verified(self):
        self.ses.verify_email_identity(EmailAddress=SENDER)
        attrs = self.ses.get_identity_verification_attributes(Identities=[SENDER])["VerificationAttributes"]
        self.assertEqual(attrs[SENDER]["VerificationStatus"], "Pending")
        send = lambda: self.ses.send_email(
            Source=SENDER, Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        self.assertEqual(error_of(send)["Code"], "MessageRejected")
        status, answer = self.emulator.post(f"/_understudy/ses/identities/{SENDER}/status", {"status": "Success"})
        self.assertEqual((status, answer), (200, {"identity": SENDER, "status": "Success"}))
        send()
        status, answer = self.emulator.post("/_understudy/ses/identities/nobody@x.org/status", {"status": "Success"})
        self.assertEqual((status, answer["message"]), (404, "identity 'nobody@x.org' does not exist"))
        status, info = self.emulator.get("/_understudy/ses")
        self.assertEqual((info["messages"], info["retention"], info["verification"]), (1, "24h", "pending"))

    # SMTPS: TLS from the first byte, as on SES's port 465.
    def test_smtps(self):
        self.ses.verify_email_identity(EmailAddress=SENDER)
        self.emulator.post(f"/_understudy/ses/identities/{SENDER}/status", {"status": "Success"})
        status, health = self.emulator.get("/_understudy/health")
        pem = self.read("/_understudy/elb/ca.pem").decode()
        with smtplib.SMTP_SSL("127.0.0.1", health["ses"]["smtps"]["port"], timeout=10,
                              context=ssl.create_default_context(cadata=pem)) as smtp:
            smtp.sendmail(SENDER, ["success@simulator.amazonses.com"],
                          b"From: noreply@example.org\r\nSubject: implicit tls\r\n\r\nhi\r\n")
        self.assertEqual(self.messages(via="smtp")[0]["subject"], "implicit tls")


class SmtpFromTasksTest(SesTestBase):
    """An app in an awsvpc task sends mail as it would on AWS: to SES's SMTP endpoint by its
    AWS name on 587 with STARTTLS and AUTH, and to the host's SMTP address (aws-semantics
    §5.5); both land in the same store."""

    def test_a_task_sends_smtp(self):
        if os.geteuid() != 0:
            self.skipTest("LOUD SKIP: awsvpc tasks need network namespaces (run as root)")
        self.verify("noreply@example.org")
        ecs = self.emulator.client("ecs")
        ecs.create_cluster(clusterName="mail")
        script = (
            "import smtplib, sys\n"
            "def send(host, port, to, tls):\n"
            "    with smtplib.SMTP(host, port, timeout=20) as s:\n"
            "        if tls:\n"
            "            s.starttls()\n"
            "            s.login('AKIAEXAMPLE', 'secret')\n"
            "        s.sendmail('noreply@example.org', [to],\n"
            "                   'From: noreply@example.org\\r\\nTo: ' + to +\n"
            "                   '\\r\\nSubject: from a task\\r\\n\\r\\nhello\\r\\n')\n"
            "send('email-smtp.us-east-1.amazonaws.com', 587, 'success+aws@simulator.amazonses.com', True)\n"
            f"send('127.0.0.1', {self.emulator.smtp_port}, 'success+host@simulator.amazonses.com', False)\n")
        ecs.register_task_definition(
            family="mailer", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[{"name": "mailer", "image": "local/python",
                                                 "command": [sys.executable, "-c", script]}])
        arn = ecs.run_task(cluster="mail", taskDefinition="mailer", launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-a"]}}
                           )["tasks"][0]["taskArn"]
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsTask": {"cluster": "mail", "task": arn, "lastStatus": "STOPPED"}},
            "timeout": "60s"})
        self.assertEqual(status, 200, answer)
        task = ecs.describe_tasks(cluster="mail", tasks=[arn])["tasks"][0]
        self.assertEqual(task["containers"][0].get("exitCode"), 0, task)
        got = json.loads(self.read("/_understudy/ses/wait?via=smtp&count=2&timeout=10s"))
        self.assertEqual(len(got["messages"]), 2, got)
        for to in ("success+aws@simulator.amazonses.com", "success+host@simulator.amazonses.com"):
            [m] = self.messages(to=to)
            self.assertEqual((m["subject"], m["via"]), ("from a task", "smtp"))


class RestartTest(unittest.TestCase):
    # Messages, identities and templates survive a restart on the same --state-dir.
    def test_restart_keeps_state(self):
        state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, state)
        with Understudy(BINARY, "--state-dir", state) as emulator:
            ses = emulator.client("ses")
            ses.verify_email_identity(EmailAddress=SENDER)
            ses.create_template(Template={"TemplateName": "t", "SubjectPart": "s"})
            mid = ses.send_email(Source=SENDER, Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
                                 Message={"Subject": {"Data": "kept"}, "Body": {"Text": {"Data": "b"}}})["MessageId"]
        with Understudy(BINARY, "--state-dir", state) as emulator:
            status, body = emulator.get("/_understudy/ses/messages")
            self.assertEqual([(m["id"], m["subject"]) for m in body["messages"]], [(mid, "kept")])
            ses = emulator.client("ses")
            self.assertEqual(ses.list_identities()["Identities"], [SENDER])
            self.assertEqual(ses.get_template(TemplateName="t")["Template"]["SubjectPart"], "s")
            self.assertEqual(ses.get_send_quota()["SentLast24Hours"], 0.0)  # simulator only


if __name__ == "__main__":
    unittest.main()
