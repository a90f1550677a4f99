// The references other services check ids through (lenient and --strict-references),
// and EC2 on the front door: its query dialect, DryRun, and reset.
#include "ec2/ec2.h"

#include <gtest/gtest.h>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/waits.h"

namespace understudy::ec2 {
namespace {

class ReferencesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = Clock::Create(
        loop_, ClockOptions{ClockMode::kVirtual, TimePoint{}, std::chrono::seconds(30)});
    store_ = std::move(Store::Open(":memory:")).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    ASSERT_TRUE(journal_->Open().ok());
    waits_ = std::make_unique<Waits>(loop_, *clock_);
    models_ = std::move(api::ModelRegistry::LoadEmbedded()).value();
    front_door_ = std::make_unique<api::FrontDoor>(*clock_, *journal_, Random(1), *models_,
                                                   api::FrontDoorOptions{});
    control_ = std::make_unique<api::ControlApi>(*front_door_, *clock_, *waits_, *journal_,
                                                 api::ControlInfo{}, "us-east-1");
  }

  void Open(bool strict) {
    ec2_ = std::move(Ec2::Open(*store_, *journal_, Random(5), Ec2Options{strict})).value();
    ec2_->Install(*front_door_, *control_);
  }

  // Sends an EC2 query-dialect form to the front door; (status, XML body).
  std::pair<int, std::string> Form(const std::string& body) {
    api::HttpRequest request;
    request.method = "POST";
    request.path = request.raw_path = request.target = "/";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    request.body = body + "&Version=2016-11-15";
    api::HttpResponse response;
    front_door_->Handle(request, [&](api::HttpResponse r) { response = std::move(r); });
    return {response.status, response.body};
  }

  // The text of the first <tag>...</tag> in `xml`, with &apos; unescaped.
  static std::string Element(const std::string& xml, const std::string& tag) {
    size_t start = xml.find("<" + tag + ">");
    if (start == std::string::npos) return "";
    start += tag.size() + 2;
    std::string text = xml.substr(start, xml.find("</" + tag + ">", start) - start);
    for (size_t at; (at = text.find("&apos;")) != std::string::npos;) text.replace(at, 6, "'");
    return text;
  }

  const Scope scope_{"000000000000", "us-east-1"};
  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Waits> waits_;
  std::unique_ptr<api::ModelRegistry> models_;
  std::unique_ptr<api::FrontDoor> front_door_;
  std::unique_ptr<api::ControlApi> control_;
  std::unique_ptr<Ec2> ec2_;
};

// Known ids resolve to what EC2 holds, whatever the policy.
TEST_F(ReferencesTest, KnownIdsResolve) {
  Open(true);
  auto [status, xml] = Form("Action=CreateVpc&CidrBlock=10.0.0.0%2F16");
  ASSERT_EQ(status, 200) << xml;
  std::string vpc = Element(xml, "vpcId");
  std::tie(status, xml) = Form("Action=CreateSubnet&VpcId=" + vpc +
                               "&CidrBlock=10.0.2.0%2F24&AvailabilityZone=us-east-1c");
  ASSERT_EQ(status, 200) << xml;
  std::string subnet_id = Element(xml, "subnetId");
  auto subnet = ec2_->ResolveSubnet(scope_, subnet_id);
  ASSERT_TRUE(subnet.ok());
  EXPECT_FALSE(subnet.synthesized());
  EXPECT_EQ(subnet.value().vpc_id, vpc);
  EXPECT_EQ(subnet.value().availability_zone, "us-east-1c");
  EXPECT_EQ(subnet.value().availability_zone_id, "use1-az3");
  EXPECT_EQ(subnet.value().cidr, "10.0.2.0/24");
  auto found_vpc = ec2_->FindVpc(scope_, vpc);
  ASSERT_TRUE(found_vpc.ok());
  EXPECT_EQ(found_vpc.value().cidr, "10.0.0.0/16");
  EXPECT_FALSE(found_vpc.value().is_default);
  ASSERT_TRUE(ec2_->DefaultVpc(scope_).has_value());
  EXPECT_TRUE(ec2_->DefaultVpc(scope_)->is_default);
}

// By default an unknown id is accepted and synthesized in the default VPC, zone <region>a.
TEST_F(ReferencesTest, LenientSynthesizes) {
  Open(false);
  EXPECT_FALSE(ec2_->strict_references());
  auto subnet = ec2_->ResolveSubnet(scope_, "subnet-a");
  ASSERT_TRUE(subnet.ok());
  EXPECT_TRUE(subnet.synthesized());
  EXPECT_EQ(subnet.value().subnet_id, "subnet-a");
  EXPECT_EQ(subnet.value().vpc_id, ec2_->DefaultVpc(scope_)->vpc_id);
  EXPECT_EQ(subnet.value().availability_zone, "us-east-1a");
  EXPECT_EQ(subnet.value().availability_zone_id, "use1-az1");
  auto group = ec2_->ResolveSecurityGroup(scope_, "sg-123");
  ASSERT_TRUE(group.ok());
  EXPECT_TRUE(group.synthesized());
  EXPECT_TRUE(ec2_->ResolveVpc(scope_, "vpc-123").ok());
  // The exact lookups still say what EC2 would.
  EXPECT_EQ(ec2_->FindSubnet(scope_, "subnet-a").error().code, "InvalidSubnetID.NotFound");
}

// With --strict-references an unknown id is EC2's error, code and message.
TEST_F(ReferencesTest, StrictRefuses) {
  Open(true);
  auto subnet = ec2_->ResolveSubnet(scope_, "subnet-a");
  ASSERT_FALSE(subnet.ok());
  EXPECT_EQ(subnet.error().code, "InvalidSubnetID.NotFound");
  EXPECT_EQ(subnet.error().message, "The subnet ID 'subnet-a' does not exist");
  auto group = ec2_->ResolveSecurityGroup(scope_, "sg-123");
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().code, "InvalidGroup.NotFound");
  EXPECT_EQ(group.error().message, "The security group 'sg-123' does not exist");
  auto vpc = ec2_->ResolveVpc(scope_, "vpc-123");
  ASSERT_FALSE(vpc.ok());
  EXPECT_EQ(vpc.error().message, "The vpc ID 'vpc-123' does not exist");
}

// The EC2 dialect: errors as <Response><Errors>, DryRun answered as EC2 does.
TEST_F(ReferencesTest, FrontDoor) {
  Open(false);
  auto [status, xml] = Form("Action=DescribeSubnets&SubnetId.1=subnet-a");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(Element(xml, "Code"), "InvalidSubnetID.NotFound");
  EXPECT_EQ(Element(xml, "Message"), "The subnet ID 'subnet-a' does not exist");
  std::tie(status, xml) = Form("Action=CreateVpc&CidrBlock=10.0.0.0%2F16&DryRun=true");
  EXPECT_EQ(status, 412);
  EXPECT_EQ(Element(xml, "Code"), "DryRunOperation");
  std::tie(status, xml) = Form("Action=DescribeVpcs&Filter.1.Name=isDefault&Filter.1.Value.1=true");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Element(xml, "isDefault"), "true");
  EXPECT_EQ(Element(xml, "vpcId"), ec2_->DefaultVpc(scope_)->vpc_id);
}

// Reset drops what was created; the defaults come back the same.
TEST_F(ReferencesTest, Reset) {
  Open(true);
  std::string default_vpc = ec2_->DefaultVpc(scope_)->vpc_id;
  std::string vpc = Element(Form("Action=CreateVpc&CidrBlock=10.0.0.0%2F16").second, "vpcId");
  ASSERT_TRUE(ec2_->FindVpc(scope_, vpc).ok());
  ASSERT_TRUE(ec2_->Reset().ok());
  EXPECT_FALSE(ec2_->FindVpc(scope_, vpc).ok());
  EXPECT_EQ(ec2_->DefaultVpc(scope_)->vpc_id, default_vpc);
}

}  // namespace
}  // namespace understudy::ec2
