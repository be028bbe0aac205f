"""The standard library agents use, imported at build time so that it is in
the snapshot: at run time the stdlib's files are gone, so a module that was
not imported here cannot be imported at all."""

import abc
import ast
import asyncio
import base64
import binascii
import bisect
import builtins
import calendar
import collections
import collections.abc
import contextlib
import copy
import csv
import dataclasses
import datetime
import decimal
import difflib
import enum
import fnmatch
import fractions
import functools
import gc
import graphlib
import hashlib
import heapq
import hmac
import html
import importlib
import importlib.abc
import importlib.machinery
import inspect
import io
import ipaddress
import itertools
import json
import keyword
import linecache
import math
import numbers
import operator
import os
import pprint
import random
import re
import reprlib
import secrets
import shlex
import statistics
import string
import struct
import sys
import textwrap
import time
import traceback
import types
import typing
import unicodedata
import urllib.parse
import uuid
import warnings
import weakref
import zlib

# Useful, not essential: kept when they import.
OPTIONAL = (
    "array",
    "email.utils",
    "glob",
    "pathlib",
    "pickle",
    "shutil",
    "tomllib",
    "xml.etree.ElementTree",
    "zoneinfo",
)
for _name in OPTIONAL:
    try:
        importlib.import_module(_name)
    except ImportError:
        pass
