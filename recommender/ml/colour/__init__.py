"""Garment colour in CIELAB: conversion, statistics over a garment's own pixels, and colour difference."""
