// The --images and --secrets files, Docker's argv rules, and environment files.
#include "ecs/image_map.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "support/status_matchers.h"

namespace understudy::ecs {
namespace {

using Strings = std::vector<std::string>;

// Patterns match with '*', the first in file order winning; fields are read as given.
TEST(ImageMapTest, ParseAndFind) {
  auto map = ImageMap::Parse("images.json", R"({
    // comments are allowed
    "images": {
      "myorg/web:*": {"entryPoint": ["python3", "app.py"], "command": ["--port", "8080"],
                      "workingDirectory": "/srv", "environment": {"MODE": "web"}},
      "myorg/*": {"command": ["generic"]}
    }})");
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  auto web = map->Find("myorg/web:1.2.3");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(web->entry_point, (Strings{"python3", "app.py"}));
  EXPECT_EQ(web->command, (Strings{"--port", "8080"}));
  EXPECT_EQ(web->working_directory, "/srv");
  EXPECT_EQ(web->environment, (std::vector<std::pair<std::string, std::string>>{{"MODE", "web"}}));
  EXPECT_EQ(map->Find("myorg/worker:2")->command, Strings{"generic"});
  EXPECT_FALSE(map->Find("nginx:1").has_value());
}

// A malformed mapping names the file, the JSON path and what was expected.
TEST(ImageMapTest, Errors) {
  auto error = [](std::string_view text) {
    return ImageMap::Parse("images.json", text).status().message();
  };
  EXPECT_EQ(error(R"({"imgs": {}})"),
            "images.json: $: expected {\"images\": {\"<image pattern>\": {...}}}");
  EXPECT_EQ(error(R"({"images": {"a": {"command": "run"}}})"),
            "images.json: $.images[\"a\"].command: expected a list of strings, found string");
  EXPECT_EQ(error(R"({"images": {"a": {"command": ["x", 1]}}})"),
            "images.json: $.images[\"a\"].command[1]: expected a string, found number");
  EXPECT_EQ(error(R"({"images": {"a": {"cmd": []}}})"),
            "images.json: $.images[\"a\"].cmd: unknown field; expected entryPoint, command, "
            "workingDirectory or environment");
  EXPECT_EQ(error(R"({"images": {"a": {"environment": {"K": 1}}}})"),
            "images.json: $.images[\"a\"].environment.K: expected a string");
  EXPECT_EQ(ImageMap::Load("/nonexistent/images.json").status().message(),
            "cannot read --images file /nonexistent/images.json");
}

// A relative workingDirectory in a loaded file is relative to the file's directory;
// an absolute one is kept.
TEST(ImageMapTest, LoadResolvesRelativeWorkingDirectory) {
  std::string dir = ::testing::TempDir() + "/understudy_images_test";
  std::filesystem::create_directories(dir + "/scenarios/amy");
  std::string path = dir + "/scenarios/amy/images.json";
  std::ofstream(path) << R"({"images": {"amy/web:*": {"workingDirectory": "../../fixtures/amy"},
                                        "abs/*": {"workingDirectory": "/srv/app"}}})";
  auto map = ImageMap::Load(path);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->Find("amy/web:1")->working_directory,
            std::filesystem::path(dir + "/fixtures/amy").lexically_normal().string());
  EXPECT_EQ(map->Find("abs/x")->working_directory, "/srv/app");
  std::filesystem::remove_all(dir);
}

// Docker's rules: a container entryPoint replaces the image's and drops its command.
TEST(ImageMapTest, ContainerArgv) {
  ImageConfig image{{"/entry"}, {"default", "args"}, "", {}};
  EXPECT_EQ(ContainerArgv({}, {}, image), (Strings{"/entry", "default", "args"}));
  EXPECT_EQ(ContainerArgv({}, {"mine"}, image), (Strings{"/entry", "mine"}));
  EXPECT_EQ(ContainerArgv({"/other"}, {}, image), (Strings{"/other"}));
  EXPECT_EQ(ContainerArgv({"/other"}, {"x"}, image), (Strings{"/other", "x"}));
  EXPECT_EQ(ContainerArgv({}, {"/bin/app"}, std::nullopt), (Strings{"/bin/app"}));
  EXPECT_EQ(ContainerArgv({}, {}, std::nullopt), Strings{});
}

// Secrets map valueFrom to values; a bad file says where.
TEST(ImageMapTest, Secrets) {
  auto secrets = SecretStore::Parse(
      "s.json", R"({"arn:aws:ssm:us-east-1:000000000000:parameter/db": "hunter2"})");
  ASSERT_TRUE(secrets.ok());
  EXPECT_EQ(secrets->Find("arn:aws:ssm:us-east-1:000000000000:parameter/db"), "hunter2");
  EXPECT_FALSE(secrets->Find("other").has_value());
  EXPECT_EQ(SecretStore::Parse("s.json", R"({"a": 1})").status().message(),
            "s.json: $[\"a\"]: expected a string");
}

// Environment files: KEY=VALUE lines, comments and blanks skipped, bad lines named.
TEST(ImageMapTest, EnvironmentFile) {
  std::string path = ::testing::TempDir() + "/understudy_env_test.env";
  {
    std::ofstream out(path);
    out << "# settings\nA=1\n\n  B=two=2\r\nC=\n";
  }
  auto vars = ReadEnvironmentFile(path);
  ASSERT_TRUE(vars.ok());
  EXPECT_EQ(*vars, (std::vector<std::pair<std::string, std::string>>{
                       {"A", "1"}, {"B", "two=2"}, {"C", ""}}));
  {
    std::ofstream out(path);
    out << "A=1\nnot a variable\n";
  }
  EXPECT_EQ(ReadEnvironmentFile(path).status().message(),
            path + ":2: expected VARIABLE=VALUE, found 'not a variable'");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace understudy::ecs
