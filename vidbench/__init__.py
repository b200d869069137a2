"""vidbench: MoCoGAN-HD training/sampling and video-generation metrics under named protocols."""

__version__ = "0.1.0"
