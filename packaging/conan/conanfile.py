"""Conan 2 recipe of e2b-cpp, built from the checkout it lives in.

    conan create packaging/conan --build=missing

The version is read from project(e2b VERSION ...) in CMakeLists.txt and the
CMake options from packaging/cmake-options.txt, the places every other
recipe reads them from. packaging/README.md says what CI checks of it.
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rmdir

required_conan_version = ">=2.0"

# The project() call of CMakeLists.txt; tests/packaging/recipe_options.sh
# applies this same expression to check what set_version() finds.
VERSION_RE = r"project\(e2b\s[^)]*?VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)"

# What a package needs from the repository (tests, tools and docs are left
# out: the options below turn them off).
SOURCES = ["CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "src/*",
           "packaging/cmake-options.txt"]


class E2bCppConan(ConanFile):
    name = "e2b-cpp"
    description = "Synchronous C++17 client for E2B sandboxes, a port of the Go SDK"
    license = "MIT"
    homepage = "https://github.com/e2b-cpp/e2b-cpp"
    url = "https://github.com/e2b-cpp/e2b-cpp"
    topics = ("e2b", "sandbox", "sdk", "http")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False]}
    default_options = {"shared": False, "fPIC": True}

    def _repository(self):
        return os.path.join(self.recipe_folder, "..", "..")

    def set_version(self):
        cmakelists = load(self, os.path.join(self._repository(), "CMakeLists.txt"))
        self.version = re.search(VERSION_RE, cmakelists).group(1)

    def export_sources(self):
        for pattern in SOURCES:
            copy(self, pattern, self._repository(), self.export_sources_folder)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def validate(self):
        check_min_cppstd(self, 17)
        if self.settings.os == "Windows":
            raise ConanInvalidConfiguration("e2b-cpp uses POSIX APIs; Windows is not supported")

    def requirements(self):
        self.requires("libcurl/[>=7.66.0 <9]")
        # Header-only and used only inside the library's sources.
        self.requires("nlohmann_json/[>=3.9.0 <4]")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        # BUILD_SHARED_LIBS comes from the "shared" option through the toolchain.
        options = load(self, os.path.join(self.source_folder, "packaging", "cmake-options.txt"))
        for line in options.splitlines():
            match = re.fullmatch(r"-D([A-Za-z0-9_]+)=(.*)", line.strip())
            if match:
                tc.cache_variables[match.group(1)] = match.group(2)
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        CMake(self).install()
        # Consumers get the CMake package and e2b.pc from Conan's generators
        # (package_info below), not from the project's own files.
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "e2b")
        self.cpp_info.set_property("cmake_target_name", "e2b::e2b")
        self.cpp_info.set_property("pkg_config_name", "e2b")
        self.cpp_info.libs = ["e2b"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
